#!/usr/bin/env python3
"""Generate a deterministic static site for benchmarks.

    bench/gen_site.py OUT_DIR [--files N] [--seed S] [--small]

The same N and seed always give the same bytes. The mix is that of a real built site: many
small HTML pages, CSS/JS bundles with source maps, JSON/XML, images (incompressible bytes),
fonts, a wasm module, and a few large media files (10-30 MB, one per ~700 files).

With --small every file is 1-7 KB (about 4 KB on average) of the same kinds and there are no
media files: the shape where per-file costs (memory, requests, the listing) dominate.
"""

import argparse
import os
import random

WORDS = (
    "static site deploy bucket object header cache browser page asset style script image font "
    "module content type charset encoding upload change sync prefix key region endpoint request "
    "the a of to and in is for on with as by at from"
).split()


def text(rng: random.Random, size: int) -> bytes:
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return (" ".join(out))[:size].encode()


def html(rng: random.Random, i: int, size: int) -> bytes:
    head = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page {i}</title>'
        '<link rel="stylesheet" href="/css/site.css"></head><body><main>'
    ).encode()
    tail = b"</main></body></html>\n"
    return head + text(rng, max(0, size - len(head) - len(tail))) + tail


KINDS = [
    # (share, folder, extension, min size, max size, generator)
    (0.40, "posts", "html", 4_000, 40_000, "html"),
    (0.05, "css", "css", 2_000, 60_000, "text"),
    (0.10, "js", "js", 2_000, 120_000, "text"),
    (0.04, "js", "js.map", 5_000, 200_000, "text"),
    (0.04, "data", "json", 500, 20_000, "text"),
    (0.02, "feeds", "xml", 2_000, 50_000, "text"),
    (0.12, "img", "png", 5_000, 150_000, "bin"),
    (0.10, "img", "jpg", 10_000, 200_000, "bin"),
    (0.08, "img", "webp", 5_000, 100_000, "bin"),
    (0.03, "fonts", "woff2", 20_000, 80_000, "bin"),
    (0.02, "img", "svg", 500, 8_000, "text"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    n_big = 0 if args.small else max(1, args.files // 700)
    n_small = args.files - n_big - 1
    total = 0

    def write(rel: str, data: bytes) -> None:
        nonlocal total
        path = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        total += len(data)

    for i in range(n_small):
        r = rng.random()
        acc = 0.0
        kind = KINDS[-1]
        for k in KINDS:
            acc += k[0] / sum(x[0] for x in KINDS)
            if r < acc:
                kind = k
                break
        _, folder, ext, lo, hi, gen = kind
        size = rng.randint(1_000, 7_000) if args.small else rng.randint(lo, hi)
        sub = f"{folder}/{i % 37:02d}"
        if gen == "html":
            data = html(rng, i, size)
        elif gen == "text":
            data = text(rng, size)
        else:
            data = rng.randbytes(size)
        write(f"{sub}/f{i:06d}.{ext}", data)
    wasm = 4_000 if args.small else 300_000
    write("wasm/app.wasm", b"\x00asm\x01\x00\x00\x00" + rng.randbytes(wasm))
    for j in range(n_big):
        write(f"media/video{j}.mp4", rng.randbytes(rng.randint(10_000_000, 30_000_000)))
    print(f"{args.files} files, {total / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
