"""JUnit XML as CI reads it: pytest-cudabench's junit.xml validates against tests/data/junit.xsd (the structure
Jenkins and GitLab read) and carries the per-test-case and per-suite cudabench properties.

Validation uses xmlschema, else lxml, when one is installed (neither is a dependency); the small interpreter of
the XSD subset below (elements, ref, sequence, choice, occurrences, attributes, simpleContent) always runs too, so
the test means the same thing on a machine with neither."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers.paths import DATA

XSD = DATA / "junit.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}
CASE_PROPERTIES = ("cudabench.task", "cudabench.stage_reached", "cudabench.compiled", "cudabench.correct",
                   "cudabench.performance_score")
SUITE_PROPERTIES = ("cudabench.model", "cudabench.seed", "cudabench.gpu", "cudabench.cudabench_score")

_SIMPLE_TYPES = {
    "xs:string": re.compile(r".*", re.S),
    "xs:nonNegativeInteger": re.compile(r"\+?\d+"),
    "xs:decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "xs:dateTime": re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"),
}


class MiniXsd:
    """Validates against the subset of XSD that junit.xsd uses; returns a list of errors (empty: valid)."""

    def __init__(self, path: Path):
        root = ET.parse(path).getroot()
        self.elements = {e.get("name"): e for e in root.findall(f"{XS}element")}
        self.types = {t.get("name"): t for t in root.findall(f"{XS}complexType")}

    def validate(self, node: ET.Element) -> list[str]:
        if node.tag not in self.elements:
            return [f"<{node.tag}> is not a top-level element of the schema"]
        errors: list[str] = []
        self._element(self.elements[node.tag], node, node.tag, errors)
        return errors

    def _element(self, decl: ET.Element, node: ET.Element, path: str, errors: list[str]) -> None:
        ctype = decl.find(f"{XS}complexType")
        if ctype is None and decl.get("type") in self.types:
            ctype = self.types[decl.get("type")]
        if ctype is None:  # a simple type: text only
            if node.attrib or len(node):
                errors.append(f"{path}: a simple-typed element has attributes or children")
            self._value(decl.get("type", "xs:string"), node.text or "", path, errors)
            return
        simple = ctype.find(f"{XS}simpleContent")
        if simple is not None:
            attributes = simple.find(f"{XS}extension").findall(f"{XS}attribute")
            if len(node):
                errors.append(f"{path}: text-only element has children <{node[0].tag}>")
        else:
            attributes = ctype.findall(f"{XS}attribute")
            if (node.text or "").strip() or any((child.tail or "").strip() for child in node):
                errors.append(f"{path}: text is not allowed here")
            model = next((c for c in ctype if c.tag in (f"{XS}sequence", f"{XS}choice")), None)
            children = list(node)
            end = self._particle(model, children, 0, path, errors) if model is not None else 0
            if end is None or end < len(children):
                errors.append(f"{path}: children {[c.tag for c in children]} do not match the content model")
        declared = {a.get("name"): a for a in attributes}
        for name, value in node.attrib.items():
            if name not in declared:
                errors.append(f"{path}: undeclared attribute {name!r}")
            else:
                self._value(declared[name].get("type", "xs:string"), value, f"{path}/@{name}", errors)
        for name, attribute in declared.items():
            if attribute.get("use") == "required" and name not in node.attrib:
                errors.append(f"{path}: required attribute {name!r} missing")

    def _value(self, type_name: str, value: str, path: str, errors: list[str]) -> None:
        pattern = _SIMPLE_TYPES.get(type_name)
        if pattern is None:
            errors.append(f"{path}: type {type_name} is outside this validator's subset")
        elif not pattern.fullmatch(value.strip() if type_name != "xs:string" else value):
            errors.append(f"{path}: {value!r} is not a valid {type_name}")

    def _particle(self, particle, children, pos, path, errors) -> int | None:
        """Matches `particle` between minOccurs and maxOccurs times from children[pos]; the position after, or None."""
        low = int(particle.get("minOccurs", "1"))
        high = particle.get("maxOccurs", "1")
        high = None if high == "unbounded" else int(high)
        count = 0
        while high is None or count < high:
            after = self._once(particle, children, pos, path, errors)
            if after is None or after == pos:
                break
            pos, count = after, count + 1
        return pos if count >= low else None

    def _once(self, particle, children, pos, path, errors) -> int | None:
        if particle.tag == f"{XS}element":
            name = particle.get("ref") or particle.get("name")
            if pos < len(children) and children[pos].tag == name:
                decl = self.elements[name] if particle.get("ref") else particle
                self._element(decl, children[pos], f"{path}/{name}", errors)
                return pos + 1
            return None
        if particle.tag == f"{XS}sequence":
            for sub in particle:
                pos = self._particle(sub, children, pos, path, errors)
                if pos is None:
                    return None
            return pos
        if particle.tag == f"{XS}choice":
            for sub in particle:
                after = self._particle(sub, children, pos, path, errors)
                if after is not None and after > pos:
                    return after
            return None
        errors.append(f"{path}: {particle.tag} is outside this validator's subset")
        return None


def library_errors(xml_path: Path) -> list[str] | None:
    """Errors from xmlschema or lxml, whichever is installed first; None when neither is."""
    try:
        import xmlschema
    except ImportError:
        pass
    else:
        return [str(e) for e in xmlschema.XMLSchema(str(XSD)).iter_errors(str(xml_path))]
    try:
        from lxml import etree
    except ImportError:
        return None
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    valid = schema.validate(etree.parse(str(xml_path)))
    return [] if valid else [str(e) for e in schema.error_log]


def assert_valid(xml_path: Path) -> ET.Element:
    root = ET.parse(xml_path).getroot()
    assert MiniXsd(XSD).validate(root) == []
    assert library_errors(xml_path) in (None, [])
    return root


def properties(node: ET.Element) -> dict[str, str]:
    block = node.find("properties")
    return {} if block is None else {p.get("name"): p.get("value") for p in block.findall("property")}


def run(pytester, shared_cache, *args):
    return pytester.runpytest_subprocess(
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "-p", "no:cacheprovider",
        "--junitxml=junit.xml", "--cudabench-seed=11", *args, "task_suite")


def test_the_validator_rejects_what_the_schema_forbids():
    good = ET.fromstring(
        '<testsuites name="x"><testsuite name="s" tests="1" failures="1" errors="0" skipped="0" time="0.5" '
        'timestamp="2024-05-01T10:00:00.123+00:00" hostname="h"><properties><property name="a" value="1"/>'
        '</properties><testcase classname="c" name="n" time="0.1"><properties><property name="b" value="2"/>'
        '</properties><failure message="m">trace</failure><system-out>o</system-out></testcase>'
        '</testsuite></testsuites>')
    validator = MiniXsd(XSD)
    assert validator.validate(good) == []
    cases = {
        "required attribute 'classname' missing": lambda r: r.find(".//testcase").attrib.pop("classname"),
        "undeclared attribute 'flaky'": lambda r: r.find(".//testcase").set("flaky", "1"),
        "is not a valid xs:decimal": lambda r: r.find(".//testcase").set("time", "fast"),
        "is not a valid xs:nonNegativeInteger": lambda r: r.find("testsuite").set("tests", "-1"),
        "do not match the content model": lambda r: r.find(".//testcase").insert(0, ET.Element("failure")),
        "required attribute 'value' missing": lambda r: r.find(".//property").attrib.pop("value"),
    }
    for expected, mutate in cases.items():
        broken = ET.fromstring(ET.tostring(good))
        mutate(broken)
        errors = validator.validate(broken)
        assert any(expected in e for e in errors), (expected, errors)
    assert validator.validate(ET.Element("testrun")) == ["<testrun> is not a top-level element of the schema"]


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_reference_run_writes_valid_junit_with_cudabench_properties(pytester, suite_copy, shared_cache, mode):
    suite_copy("basics/vector_add", "reduction/sum")
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--cudabench-levels=1",
                 *XDIST_MODES[mode])
    result.assert_outcomes(passed=2)
    root = assert_valid(pytester.path / "junit.xml")
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "0", "0", "0")
    suite_props = properties(suite)
    for name in SUITE_PROPERTIES:
        assert suite_props.get(name), (name, suite_props)
    assert suite_props["cudabench.model"] == "reference" and suite_props["cudabench.seed"] == "11"
    assert any(name.startswith("cudabench.version.") for name in suite_props), suite_props
    report = json.loads(next((pytester.path / "out").glob("*.json")).read_text())
    score = report["aggregates"]["overall"]["cudabench_score"]  # None without a GPU to time on
    assert suite_props["cudabench.cudabench_score"] == ("not measured" if score is None else str(score))
    cases = {case.get("classname"): case for case in suite.findall("testcase")}
    assert set(cases) == {"task_suite.basics.vector_add", "task_suite.reduction.sum"}
    for classname, case in cases.items():
        props = properties(case)
        for name in CASE_PROPERTIES:
            assert name in props, (name, props)
        assert props["cudabench.task"] == classname.removeprefix("task_suite.").replace(".", "/")
        assert props["cudabench.compiled"] == "true" and props["cudabench.correct"] == "true"
        assert props["cudabench.stage_reached"] and props["cudabench.failed_stage"] == ""
        assert props["cudabench.model"] == "reference" and props["cudabench.level"] == "1"
        item = next(i for i in report["items"] if i["task"] == props["cudabench.task"])
        score = item.get("performance_score")
        assert props["cudabench.performance_score"] == ("" if score is None else str(score))
        assert case.find("failure") is None and case.find("error") is None


def test_replay_failure_is_a_valid_failure_element(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    good = (pytester.path / "task_suite/basics/vector_add/solution.cu").read_text()
    broken = good.replace("c[i] = a[i] + b[i];", "c[i] = a[i] + undefined_b[i];")
    answers = pytester.path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(r) for r in [
        {"task": "basics/vector_add", "level": 1, "sample": 0, "content": "```cuda\n" + good + "```"},
        {"task": "basics/vector_add", "level": 2, "sample": 0, "content": "```cuda\n" + broken + "```"},
    ]) + "\n")
    result = run(pytester, shared_cache, f"--cudabench-model=replay:{answers}")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    root = assert_valid(pytester.path / "junit.xml")
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "1", "0", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"level1[sample0]", "level2[sample0]", "level3[sample0]"}
    passed, failed, skipped = cases["level1[sample0]"], cases["level2[sample0]"], cases["level3[sample0]"]
    assert passed.find("failure") is None and properties(passed)["cudabench.correct"] == "true"
    failure = failed.find("failure")
    assert failure is not None and "stage 'compile' failed" in failure.get("message")
    assert "undefined_b" in (failure.text or "")
    props = properties(failed)
    assert props["cudabench.failed_stage"] == "compile" and props["cudabench.compiled"] == "false"
    assert props["cudabench.message"].startswith("nvcc: answer.cu(") and "undefined_b" in props["cudabench.message"]
    assert "cudabench.message" not in properties(passed)
    assert props["cudabench.task"] == "basics/vector_add" and props["cudabench.correct"] == ""
    assert skipped.find("skipped") is not None
    assert "no recorded answer" in skipped.find("skipped").get("message")
    assert properties(suite)["cudabench.model"].startswith("replay:")
