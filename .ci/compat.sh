#!/usr/bin/env bash
# Helpers for .ci/run (issue 12): the instructors' tools and Colab's versions.
#   .ci/compat.sh oldest-transformers   tests + chapters 7-9 with the oldest transformers declared
#   .ci/compat.sh grade                 the grader on every chapter, reference and student edition
#   .ci/compat.sh student-book          build the student book, check it has no solution code
# Run from the repository root with .venv active (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest versions that pyproject.toml declares for the GPT-2 chapters (transformers 5.15
# wants tokenizers <= 0.23.0 and huggingface-hub < 2). torch stays the pinned one: a second
# torch would be a multi-GB download, so the second environment reuses the first's packages
# through a .pth file and installs only these three wheels on top (its own site-packages
# come first on sys.path).
# huggingface-hub 1.x also needs httpx (2.x does not), so the second venv gets it too.
OLDEST=(transformers==5.15.0 tokenizers==0.22.2 huggingface-hub==1.33.0 httpx==0.28.1 httpcore==1.0.9)
COMPAT_VENV="${COMPAT_VENV:-/tmp/aigc-course-oldest}"

oldest_transformers() {
    local site
    site="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    python -m venv --clear "$COMPAT_VENV"
    local compat_site
    compat_site="$("$COMPAT_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    # addsitedir, not a bare path: the main venv's own .pth files (the editable install of
    # aigc_course) must be processed too
    echo "import site; site.addsitedir('$site')" >"$compat_site/zz-main-venv.pth"
    "$COMPAT_VENV/bin/python" -m pip install -q --no-deps "${OLDEST[@]}"
    "$COMPAT_VENV/bin/python" -c 'import torch, transformers, tokenizers, huggingface_hub as h; print("second venv: torch", torch.__version__, "| transformers", transformers.__version__, "| tokenizers", tokenizers.__version__, "| huggingface_hub", h.__version__)'
    "$COMPAT_VENV/bin/python" -m pytest -q -n 2 --dist loadfile -p no:cacheprovider -o addopts="" \
        tests/test_models_gpt2.py tests/test_tiny_gpt2.py tests/test_tokenizers.py \
        tests/test_generation.py tests/test_exercises_ch07.py tests/test_exercises_ch08.py \
        tests/test_exercises_ch09.py tests/test_colab_compat.py
    "$COMPAT_VENV/bin/python" -m pytest -q -n 2 --dist loadfile -p no:cacheprovider -o addopts="" --nbval \
        --nbval-current-env --nbval-sanitize-with=tests/nbval_sanitize.cfg \
        chapters/07_tokenization.ipynb chapters/08_gpt2.ipynb chapters/09_generation.ipynb
}

grade() {
    # The whole class, on the command line: every chapter's reference notebook must pass every
    # exercise, every student-edition notebook must be "not attempted" throughout. (The wrong,
    # forged and broken submissions are in tests/test_grade.py, run by pytest.)
    local class=/tmp/aigc-course-class
    rm -rf "$class"
    mkdir -p "$class/reference" "$class/student"
    cp chapters/[0-9][0-9]_*.ipynb "$class/reference/"
    python scripts/make_student_notebooks.py --out "$class/student" >/dev/null
    # two notebooks at a time, one thread each: faster on two cores than one with two threads.
    # In the bubblewrap sandbox (the default: the grader refuses to run without it).
    command -v bwrap >/dev/null || { echo "error: bwrap (bubblewrap) is not installed" >&2; exit 1; }
    OMP_NUM_THREADS=1 python -m aigc_course.grade "$class/reference" "$class/student" --jobs 2 \
        --out "$class/gradebook.csv" --wide "$class/scores.csv" --report "$class/report.html" \
        | tee "$class/summary.txt"
    grep -qx "sandbox: bubblewrap" "$class/summary.txt"
    python - "$class/gradebook.csv" <<'PY'
import csv, sys
from aigc_course.grade import load_references
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
n = 2 * sum(len(r.exercises) for r in load_references().values())
expected = {"reference": "passed", "student": "not attempted"}
wrong = [r for r in rows if r["status"] != expected[r["student"]]]
assert len(rows) == n and not wrong, wrong or f"{len(rows)} rows, expected {n}"
# Every exercise is judged in the judge process: a function through plain-data calls, a class
# through its protocol. None may fall back to a verdict computed inside the kernel.
from aigc_course.grade import IN_KERNEL
in_kernel = [(r["chapter"], r["exercise"]) for r in rows if IN_KERNEL.strip() in r["feedback"]]
assert not in_kernel, f"judged inside the kernel: {in_kernel}"
print(f"gradebook: {len(rows)} rows as expected, none judged inside the kernel")
PY
}

student_book() {
    python scripts/build_student_book.py
    python -m pytest -q -p no:cacheprovider -o addopts="" tests/test_student_book.py
}

case "${1:-}" in
    oldest-transformers) oldest_transformers ;;
    grade) grade ;;
    student-book) student_book ;;
    *) echo "usage: $0 oldest-transformers|grade|student-book" >&2; exit 2 ;;
esac
