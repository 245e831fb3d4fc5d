"""One fuzz worker process: ``python -m fuzz.worker TARGET FIRST COUNT`` runs the cases seeded
FIRST..FIRST+COUNT-1 and prints one JSON line: cases, findings by kind, the first examples, a
digest of every output (for the cross-process determinism check) and the time taken."""
from __future__ import annotations

import hashlib
import json
import random
import signal
import sys
import time

#: a case running longer than this is a hang
HANG_SECONDS = 20


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ANN001
    raise Hang()


def main(argv: list[str]) -> int:
    from fuzz.targets import TARGETS, Finding
    name, first, count = argv[0], int(argv[1]), int(argv[2])
    target = TARGETS[name]
    signal.signal(signal.SIGALRM, _alarm)
    digest = hashlib.sha256()
    findings: dict[str, int] = {}
    examples: list[str] = []
    t0 = time.perf_counter()
    for seed in range(first, first + count):
        signal.alarm(HANG_SECONDS)
        try:
            out = target(random.Random(f"{name}:{seed}"))
            digest.update(out.encode("utf-8", "surrogatepass"))
        except Finding as e:
            findings[e.kind] = findings.get(e.kind, 0) + 1
            if len(examples) < 5:
                examples.append(f"seed {seed}: {e}"[:800])
        except Hang:
            findings["hang"] = findings.get("hang", 0) + 1
            if len(examples) < 5:
                examples.append(f"seed {seed}: hang (> {HANG_SECONDS} s)")
        except Exception as e:  # noqa: BLE001 - a crash of the target itself
            findings["crash"] = findings.get("crash", 0) + 1
            if len(examples) < 5:
                examples.append(f"seed {seed}: {type(e).__name__}: {e}"[:800])
        finally:
            signal.alarm(0)
    print(json.dumps({"target": name, "first": first, "cases": count, "findings": findings,
                      "examples": examples, "digest": digest.hexdigest(),
                      "seconds": time.perf_counter() - t0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
