"""Known advisories in the pinned requirements: pip-audit, reported whatever happens.

Runs ``pip-audit -r requirements.txt`` against PyPI's advisory data, then OSV's if PyPI's cannot
be read. Exit status: 1 when a pinned package (or one it pulls in) has a known advisory; 0 when
none has; 0 too when no advisory service answered, but then the run says so loudly ("NOT
AUDITED", and how many packages could not be checked), so a skipped audit is never mistaken for
a clean one.

    .venv/bin/python .ci/audit.py [requirements.txt]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVICES = ("pypi", "osv")


def audit(requirements: str, service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON report for one advisory service, or None with the reason it did not run."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        run = subprocess.run(
            [str(pip_audit), "-r", requirements, "--vulnerability-service", service, "--format", "json",
             "--output", str(out), "--progress-spinner", "off"],
            capture_output=True, text=True, timeout=900,
        )
        if not out.exists() or not out.read_text().strip():
            lines = (run.stderr or run.stdout).strip().splitlines()
            return None, lines[-1] if lines else f"pip-audit exited with {run.returncode}"
        return json.loads(out.read_text()), ""


def main() -> int:
    requirements = sys.argv[1] if len(sys.argv) > 1 else "requirements.txt"
    reasons = []
    for service in SERVICES:
        report, error = audit(requirements, service)
        if report is None:
            reasons.append(f"{service}: {error}")
            continue
        packages = report.get("dependencies", [])
        skipped = [p for p in packages if p.get("skip_reason")]
        audited = [p for p in packages if not p.get("skip_reason")]
        if not audited:  # nothing could be looked up: the service is not reachable from here
            sample = skipped[0]["skip_reason"] if skipped else "no packages"
            reasons.append(f"{service}: none of {len(packages)} packages could be checked ({sample})")
            continue
        vulnerable = [p for p in audited if p.get("vulns")]
        for package in vulnerable:
            for vuln in package["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
                print(f"pip-audit: {package['name']}=={package['version']}: {vuln['id']} (fixed in {fixes})")
        print(f"pip-audit ({service}): {len(audited)} packages audited, {len(skipped)} could not be, "
              f"{sum(len(p['vulns']) for p in vulnerable)} known advisories in {len(vulnerable)} packages")
        for package in skipped:
            print(f"pip-audit: not audited: {package['name']}: {package['skip_reason']}")
        return 1 if vulnerable else 0
    print("pip-audit: NOT AUDITED: no advisory service could be reached")
    for reason in reasons:
        print(f"  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
