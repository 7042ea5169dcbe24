"""The layering of the C sources (docs/ARCHITECTURE.md, "Layout and layers"),
checked by tests/tools/layers.py over the sources and the built objects."""
import os
import subprocess
import sys

CHECKER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "tools", "layers.py")


def build_dir(ctx):
    # UNIT_DIR is BUILD/tests: build/ or, with SANITIZE=1, build-san/.
    return os.path.dirname(os.environ.get("UNIT_DIR", os.path.join(ctx.root, "build", "tests")))


def test_calls_and_includes_go_one_way(ctx):
    r = subprocess.run([sys.executable, CHECKER, build_dir(ctx)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("0 violations"), r.stdout


def test_checker_finds_upward_calls_includes_and_cycles(ctx):
    """A tree of three files where the low layer calls and includes the
    high one, and the high one calls it back: each is reported."""
    root = ctx.path("tree")
    os.makedirs(os.path.join(root, "docs"))
    os.makedirs(os.path.join(root, "harness"))
    with open(os.path.join(root, "docs", "ARCHITECTURE.md"), "w") as f:
        f.write("```layers\nhigh: harness/high\nlow: harness/low harness/other\n```\n")
    files = {
        "low.h": "int low(void);\n",
        "low.c": '#include "harness/high.h"\nint low(void) { return high() + 1; }\n',
        "high.h": "int high(void);\n",
        "high.c": '#include "harness/low.h"\nint high(void) { return 1; }\n'
                  "int high2(void) { return low(); }\n",
        "other.c": "int other(void) { return 0; }\n",
    }
    for name, text in files.items():
        with open(os.path.join(root, "harness", name), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(root, "build", "harness"))
    for name in ("low", "high", "other"):
        subprocess.run(["cc", "-c", "-I", root, "-o",
                        os.path.join(root, "build", "harness", name + ".o"),
                        os.path.join(root, "harness", name + ".c")], check=True)
    r = subprocess.run([sys.executable, CHECKER, "--root", root, "build"],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "harness/low (low) includes harness/high (high), a higher layer: harness/high.h" in out, out
    assert "harness/low (low) calls harness/high (high), a higher layer: high" in out, out
    assert "a cycle of calls: " in out and "a cycle of includes: " in out, out
    assert "harness/other" not in out.replace("no file", ""), out
    # A file in no layer is reported too.
    with open(os.path.join(root, "harness", "stray.c"), "w") as f:
        f.write("int stray;\n")
    r = subprocess.run([sys.executable, CHECKER, "--root", root, "build"],
                       capture_output=True, text=True)
    assert "'harness/stray.c' is in no layer" in r.stdout, r.stdout
