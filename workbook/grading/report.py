"""Classroom reports: ``workbook check --all --report junit.xml|report.json``.

Two formats, chosen by the file's suffix, with one entry per graded requirement:

* JUnit XML (``.xml``): ``<testsuites>`` with one ``<testsuite name="phaseN">`` per phase and one
  ``<testcase classname="workbook.phaseN" name="<requirement id>">`` per requirement. A failing
  requirement has a ``<failure message="...">`` whose text is the grader's message and the first
  hint. Autograders that import JUnit (GitHub Classroom, GitLab, Jenkins) count the cases.
* JSON (``.json``): points per requirement, per phase and in total (the format is in README).

Each requirement is worth 1 point unless ``points = N`` is set in requirements.toml.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from workbook.course.phases import phase_path
from workbook.course.results import Outcome

FORMAT_VERSION = 1


@dataclass
class PhaseResult:
    phase: int
    target: str
    outcomes: list[Outcome]
    seconds: float


def as_dict(results: list[PhaseResult]) -> dict:
    """The JSON report (see README: "Classroom reports")."""
    phases = []
    for r in results:
        reqs = [
            {
                "id": o.requirement.id,
                "title": o.requirement.title,
                "passed": o.passed,
                "points": o.requirement.points if o.passed else 0,
                "max_points": o.requirement.points,
                "message": o.message,
                "hint": "" if o.passed or not o.requirement.hints else o.requirement.hints[0],
                **({"score": o.score} if o.score is not None else {}),
            }
            for o in r.outcomes
        ]
        phases.append(
            {
                "phase": r.phase,
                "file": phase_path(r.phase, r.target).name,
                "passed": sum(q["passed"] for q in reqs),
                "total": len(reqs),
                "points": sum(q["points"] for q in reqs),
                "max_points": sum(q["max_points"] for q in reqs),
                "seconds": round(r.seconds, 2),
                "requirements": reqs,
            }
        )
    return {
        "format": "dagster-weather-workbook/report",
        "version": FORMAT_VERSION,
        "target": results[0].target if results else "exercises",
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "points": sum(p["points"] for p in phases),
        "max_points": sum(p["max_points"] for p in phases),
        "phases": phases,
    }


def as_junit(results: list[PhaseResult]) -> ET.ElementTree:
    """The JUnit XML report: one testsuite per phase, one testcase per requirement."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    root = ET.Element("testsuites", name="dagster-weather-workbook")
    total = failures = 0
    seconds = 0.0
    for r in results:
        failed = [o for o in r.outcomes if not o.passed]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"phase{r.phase}",
            tests=str(len(r.outcomes)),
            failures=str(len(failed)),
            errors="0",
            skipped="0",
            time=f"{r.seconds:.3f}",
            timestamp=stamp,
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="file", value=phase_path(r.phase, r.target).name)
        ET.SubElement(props, "property", name="target", value=r.target)
        points = sum(o.requirement.points for o in r.outcomes if o.passed)
        ET.SubElement(props, "property", name="points", value=str(points))
        max_points = sum(o.requirement.points for o in r.outcomes)
        ET.SubElement(props, "property", name="max_points", value=str(max_points))
        for o in r.outcomes:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"workbook.phase{r.phase}",
                name=o.requirement.id,
                time=f"{o.seconds:.3f}",
            )
            if not o.passed:
                first = (o.message.splitlines() or ["failed"])[0]
                failure = ET.SubElement(case, "failure", message=first, type="RequirementFailed")
                hint = f"\n\nhint: {o.requirement.hints[0]}" if o.requirement.hints else ""
                failure.text = f"{o.requirement.title}\n\n{o.message}{hint}"
        total += len(r.outcomes)
        failures += len(failed)
        seconds += r.seconds
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write(path: Path, results: list[PhaseResult]) -> None:
    """Write the report; the suffix (.xml or .json) picks the format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".json":
        tmp.write_text(json.dumps(as_dict(results), indent=2) + "\n")
    elif path.suffix == ".xml":
        as_junit(results).write(tmp, encoding="utf-8", xml_declaration=True)
    else:
        raise ValueError(f"a report ends in .xml (JUnit) or .json, got {path.name}")
    tmp.replace(path)  # a classroom tool never reads half a report
