#!/usr/bin/env python3
"""Checks CreateJob request files (as `aws s3control create-job --cli-input-json` takes them)
against the S3 Control API model that ships with botocore: every member known, every required
member present, every type and enum value right. Exits 1 naming the file and the errors.

    .tools/moto/bin/python scripts/validate-batch-job.py DIR/job-001.json ...

Run with a Python that has botocore (the tests use moto's private virtualenv, which
scripts/s3-server.sh installs).
"""

import json
import sys

import botocore.session
from botocore.validate import ParamValidator


def main() -> int:
    model = botocore.session.get_session().get_service_model("s3control")
    shape = model.operation_model("CreateJob").input_shape
    bad = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            params = json.load(f)
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            print(f"{path}: {report.generate_report()}")
            bad += 1
    print(f"{len(sys.argv) - 1 - bad} valid, {bad} invalid (botocore {botocore.__version__})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
