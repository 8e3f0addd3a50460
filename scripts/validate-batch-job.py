#!/usr/bin/env python3
"""Checks CreateJob request files (as `aws s3control create-job --cli-input-json` takes them)
against the S3 Control API model that ships with botocore: every member known, every required
member present, every type right (botocore's validator) and every enum value one of the
model's (checked here: botocore does not). Exits 1 naming the file and the errors.

    .tools/moto/bin/python scripts/validate-batch-job.py DIR/job-001.json ...

Run with a Python that has botocore (the tests use moto's private virtualenv, which
scripts/s3-server.sh installs).
"""

import json
import sys

import botocore.session
from botocore.validate import ParamValidator


def enum_errors(value, shape, path="") -> list:
    """Values outside an enum of the model (botocore's validator does not check enums)."""
    errors = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, v in value.items():
            if name in shape.members:
                errors += enum_errors(v, shape.members[name], f"{path}.{name}".lstrip("."))
    elif shape.type_name == "list" and isinstance(value, list):
        for i, v in enumerate(value):
            errors += enum_errors(v, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, v in value.items():
            errors += enum_errors(v, shape.value, f"{path}.{k}")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        errors.append(f"{path}: {value!r} is not one of {shape.enum}")
    return errors


def main() -> int:
    model = botocore.session.get_session().get_service_model("s3control")
    shape = model.operation_model("CreateJob").input_shape
    bad = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            params = json.load(f)
        report = ParamValidator().validate(params, shape)
        errors = enum_errors(params, shape)
        if report.has_errors() or errors:
            print(f"{path}: {report.generate_report()} {' '.join(errors)}")
            bad += 1
    print(f"{len(sys.argv) - 1 - bad} valid, {bad} invalid (botocore {botocore.__version__})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
