#!/usr/bin/env python3
"""Reads what each step of tools/gpu_check.sh left in its folder and keeps the stage's record.

  gpu_report.py step --steps FILE --name NAME --kind KIND --dir DIR --rc RC --seconds S --limit L
      judges one step from its exit code and its files, appends one JSON line to FILE, prints one
      line (a table after it for ncu) and exits 0 (pass), 1 (fail, timeout, not run) or 3 (no GPU)
  gpu_report.py summary --steps FILE --stage N --out FILE [--facts FILE] [--build-info FILE] ...
      writes the stage's summary.json (atomically) from the steps so far
  gpu_report.py gtest-counts XML
      prints the counts of a gtest XML report as JSON (what the CI test compares)

Standard library only: it runs under whatever python3 the GPU host has.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

EXIT = {"pass": 0, "fail": 1, "timeout": 1, "not_run": 1, "no_gpu": 3}
# Targets from docs/BENCHMARKS.md (ratio locdet / peer, or scenes per second).
CAPTURED = "cuda graph (captured)"


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def key_values(text):
    """ "key: value" lines -> dict (first occurrence wins)."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep and k.strip() and " " not in k.strip() and k.strip() not in out:
            out[k.strip()] = v.strip()
    return out


# ---- gtest ------------------------------------------------------------------------------------


def gtest_counts(xml_path):
    """Counts per test case from a gtest XML report (one case is exactly one of passed, failed,
    skipped, disabled), the failed names and the first skip message."""
    root = ET.parse(xml_path).getroot()
    counts = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "disabled": 0}
    failed, skip_messages = [], []
    for case in root.iter("testcase"):
        name = "%s.%s" % (case.get("classname"), case.get("name"))
        counts["tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
            failed.append(name)
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            counts["skipped"] += 1
            skipped = case.find("skipped")
            if skipped is not None and skipped.get("message"):
                skip_messages.append(skipped.get("message").strip())
        elif case.get("status") == "notrun" or case.get("result") == "suppressed":
            counts["disabled"] += 1
        else:
            counts["passed"] += 1
    return counts, failed, skip_messages


def no_gpu_reason(skip_messages):
    """The skip message of a test that found no GPU (tests/cuda/cuda_test_util.h), shortened."""
    for line in "\n".join(skip_messages).splitlines():  # each message: "file:line" then the text
        if line.startswith("no GPU"):
            for prefix in ("no GPU: ", "no usable GPU: "):
                if line.startswith(prefix):
                    line = line[len(prefix):]
            return line.strip() or "no GPU"
    return None


def judge_gtest(d, rc, details):
    xmls = sorted(glob.glob(os.path.join(d, "*.xml")))
    if not xmls:
        return "fail", "no gtest XML report (exit %d): the test binary did not start or crashed; see its log" % rc
    try:
        counts, failed, skips = gtest_counts(xmls[0])
    except ET.ParseError as e:
        return "fail", "unreadable gtest XML (%s), exit %d" % (e, rc)
    details.update(counts)
    details["failed_tests"] = failed
    if skips:
        details["skip_message"] = skips[0]
    text = "%d tests: %d passed, %d failed, %d skipped" % (
        counts["tests"], counts["passed"], counts["failed"], counts["skipped"])
    if counts["disabled"]:
        text += ", %d disabled" % counts["disabled"]
    reason = no_gpu_reason(skips)
    all_for_want_of_a_gpu = len(skips) == counts["skipped"] and all(no_gpu_reason([m]) for m in skips)
    if counts["tests"] and counts["skipped"] == counts["tests"] and all_for_want_of_a_gpu:
        details["no_gpu"] = reason
        return "no_gpu", text
    if failed:
        text += " (" + ", ".join(failed[:5]) + (", ..." if len(failed) > 5 else "") + ")"
    # On a GPU host a skip means the GPU was not usable for that test: a failure of the check.
    ok = rc == 0 and counts["tests"] > 0 and counts["failed"] == 0 and counts["skipped"] == 0
    return ("pass" if ok else "fail"), text + ("" if ok or rc == 0 else "; exit %d" % rc)


# ---- the kinds of step --------------------------------------------------------------------------


def judge_facts(d, rc, details):
    facts = key_values(read(os.path.join(d, "facts.txt")))
    details.update(facts)
    text = "GPU: %s; glibc %s; torch %s" % (facts.get("gpu", "?"), facts.get("glibc", "?"), facts.get("torch", "?"))
    return ("pass" if rc == 0 else "fail"), text


def judge_ldd(d, rc, details):
    text = read(os.path.join(d, "ldd.txt"))
    files, problems, current = 0, [], None
    for line in text.splitlines():
        if line.startswith("== "):
            current, files = line[3:].strip(), files + 1
        elif "not found" in line or "undefined symbol" in line:
            problems.append("%s: %s" % (current, line.strip()))
    info = key_values(read(os.path.join(d, "glibc.txt")))
    details.update({"files": files, "problems": problems, **info})
    need, have = info.get("needs_glibc"), info.get("host_glibc")
    older = bool(need and have and [int(x) for x in have.split(".")] < [int(x) for x in need.split(".")])
    if older:
        problems.insert(0, "this host has glibc %s, the carried binaries need >= %s" % (have, need))
    if problems:
        return "fail", "%d of %d files do not load here: %s" % (
            len({p.split(":")[0] for p in problems}), files, "; ".join(problems[:3]))
    ok = rc == 0 and files > 0
    glibc = "host glibc %s" % have + (", the binaries need >= %s" % need if need else "")
    return ("pass" if ok else "fail"), "%d files: every library and symbol resolved (%s)" % (files, glibc)


def judge_train(d, rc, details):
    records = []
    for line in read(os.path.join(d, "run", "metrics.jsonl")).splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pass
    train = [r for r in records if r.get("kind") == "train"]
    executor = train[-1].get("executor") if train else None
    details["executor"] = executor
    if train:
        details["images_per_second"] = round(train[-1].get("images_per_second", 0), 1)
        details["steps"] = train[-1].get("step")
    try:
        report = json.loads(read(os.path.join(d, "run", "eval.json")) or "null")
    except ValueError:
        report = None
    keys = ("images", "accuracy", "mean_iou", "performance", "presence_accuracy", "map", "map50", "map75",
            "ar100", "train_seconds")
    if isinstance(report, dict):
        details["test"] = {k: report[k] for k in keys if k in report}
    t = details.get("test", {})
    if "accuracy" in t:
        metrics = "test accuracy %.2f%% mean IoU %.4f" % (100 * t["accuracy"], t.get("mean_iou", float("nan")))
    elif "map" in t:
        metrics = "test AP %.4f AP50 %.4f" % (t["map"], t.get("map50", float("nan")))
    else:
        metrics = "no test report"
    text = "%s; executor %s; %s img/s" % (metrics, executor, details.get("images_per_second", "?"))
    ok = rc == 0 and executor == CAPTURED and bool(t)
    if executor != CAPTURED:
        text += " (expected '%s')" % CAPTURED
    return ("pass" if ok else "fail"), text


def judge_evaluate(d, rc, details):
    """evaluate and predict against train_gpu's own test report of the same checkpoint."""
    parts, ok = [], rc == 0
    for ref_path in sorted(glob.glob(os.path.join(d, "ref_*.json"))):
        task = os.path.basename(ref_path)[4:-5]
        try:
            ref, got = json.loads(read(ref_path)), json.loads(read(os.path.join(d, "eval_%s.json" % task)))
        except ValueError:
            parts.append("%s: no evaluate report" % task)
            ok = False
            continue
        keys = [k for k in ("accuracy", "mean_iou", "map", "map50") if k in ref]
        diffs = {k: abs(ref[k] - got.get(k, float("inf"))) for k in keys}
        details[task] = {"train_gpu": {k: ref[k] for k in keys}, "evaluate": {k: got.get(k) for k in keys}}
        # Same checkpoint, scenes and batch on the same GPU: the numbers must agree exactly (to the
        # JSON's printed precision); a difference is worth knowing about, so it fails the step.
        same = all(v <= 1e-9 for v in diffs.values())
        ok = ok and same
        parts.append("%s %s train_gpu's test report" % (task, "equals" if same else "DIFFERS from"))
    predictions = glob.glob(os.path.join(d, "predict", "*"))
    details["predict_files"] = len(predictions)
    ok = ok and bool(predictions) and bool(parts)
    parts.append("predict wrote %d files" % len(predictions))
    return ("pass" if ok else "fail"), "evaluate: " + "; ".join(parts)


def judge_bench_pair(d, rc, details, target):
    text = read(os.path.join(d, "log.txt"))
    m = re.search(r"ratio locdet/torch \(of medians\): ([0-9.]+|nan|inf)", text)
    ours = re.search(r"locdet images_per_second \(median\): ([0-9.]+)", text)
    theirs = re.search(r"torch images_per_second \(median\): ([0-9.]+)", text)
    details["rounds"] = [line for line in text.splitlines() if line.startswith("round ")]
    if not m:
        return "fail", "no ratio (exit %d): see the log" % rc
    ratio = float(m.group(1))
    details.update({"ratio": ratio, "locdet_images_per_second": float(ours.group(1)) if ours else None,
                    "torch_images_per_second": float(theirs.group(1)) if theirs else None})
    out = "ratio locdet/torch %.2f (locdet %s, torch %s img/s)" % (
        ratio, details["locdet_images_per_second"], details["torch_images_per_second"])
    if target:
        details.update({"target": target, "target_met": ratio >= target})
        out += "; target >= %g: %s" % (target, "met" if ratio >= target else "NOT met")
    return ("pass" if rc == 0 else "fail"), out + ("" if rc == 0 else "; exit %d" % rc)


def judge_scenes(d, rc, details, target):
    rates = {}
    for device in ("cpu", "cuda"):
        v = key_values(read(os.path.join(d, device + ".txt"))).get("scenes_per_second")
        rates[device] = float(v) if v else None
    details.update({"cpu_scenes_per_second": rates["cpu"], "cuda_scenes_per_second": rates["cuda"],
                    "cpu_threads": key_values(read(os.path.join(d, "threads.txt"))).get("threads")})
    if not rates["cpu"] or not rates["cuda"]:
        return "fail", "no scenes_per_second (exit %d): see the logs" % rc
    ratio = rates["cuda"] / rates["cpu"]
    details["ratio_cuda_cpu"] = ratio
    out = "cuda %.3g scenes/s, ratio cuda/cpu (%s threads) %.1f" % (rates["cuda"], details["cpu_threads"], ratio)
    if target:
        details.update({"target": target, "target_met": rates["cuda"] >= target})
        out += "; target >= %.3g scenes/s: %s" % (target, "met" if rates["cuda"] >= target else "NOT met")
    return ("pass" if rc == 0 else "fail"), out


def judge_sanitizer(d, rc, details):
    log = read(os.path.join(d, "log.txt"))
    m = re.findall(r"ERROR SUMMARY: (\d+) error", log)
    details["errors"] = int(m[-1]) if m else None
    status, text = judge_gtest(d, 0, details)
    if details["errors"] is None:
        return "fail", "no ERROR SUMMARY (exit %d); %s" % (rc, text)
    ok = rc == 0 and details["errors"] == 0 and status == "pass"
    return ("pass" if ok else "fail"), "%d errors; %s" % (details["errors"], text)


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


NCU_COLUMNS = [  # metric, heading, format (time in microseconds, the rest in percent)
    ("gpu__time_duration.sum", "time_us", "%9.1f"),
    ("sm__warps_active.avg.pct_of_peak_sustained_active", "occupancy_%", "%11.1f"),
    ("gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed", "memory_%", "%8.1f"),
    ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "dram_%", "%6.1f"),
    ("sm__throughput.avg.pct_of_peak_sustained_elapsed", "sm_%", "%5.1f"),
]
TIME_UNITS_US = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3,
                 "second": 1e6, "s": 1e6}


def kernel_function(name):
    """'void ns::kernel<T>(A, B)' -> 'ns::kernel<T>': drop the return type and the parameters."""
    name = name[5:] if name.startswith("void ") else name
    depth = 0
    for i, c in enumerate(name):
        depth += (c == "<") - (c == ">")
        if c == "(" and depth == 0 and i > 0:
            return name[:i]
    return name


def ncu_kernels(csv_path):
    """The kernels in `ncu --import R --csv --page raw` (a header row, a units row, then a row per
    kernel with a column per metric; numbers may carry thousands separators), or in ncu's details
    layout (a row per kernel and metric, with "Metric Name", "Metric Unit", "Metric Value")."""
    with open(csv_path, newline="", errors="replace") as f:
        rows = list(csv.reader(f))
    start = next((i for i, r in enumerate(rows) if "Kernel Name" in r and "ID" in r), None)
    if start is None:
        return []
    header = rows[start]
    if "Metric Name" in header and "Metric Value" in header:  # the details layout: a row per metric
        by_id = {}
        for r in rows[start + 1:]:
            row = dict(zip(header, r))
            if len(r) != len(header) or not row["ID"].strip().isdigit():
                continue
            k = by_id.setdefault(row["ID"], dict({"name": kernel_function(row["Kernel Name"]),
                                                  "grid": row.get("Grid Size", ""), "block": row.get("Block Size", "")},
                                                 **{h: None for _, h, _ in NCU_COLUMNS}))
            for metric, heading, _ in NCU_COLUMNS:
                if row["Metric Name"] == metric:
                    v = number(row["Metric Value"])
                    if v is not None and heading == "time_us":
                        v *= TIME_UNITS_US.get(row.get("Metric Unit", ""), 1e-3)
                    k[heading] = v
        return list(by_id.values())
    units = dict(zip(header, rows[start + 1])) if len(rows) > start + 1 else {}
    time_scale = TIME_UNITS_US.get(units.get(NCU_COLUMNS[0][0], "nsecond"), 1e-3)
    kernels = []
    for r in rows[start + 1:]:
        if len(r) != len(header) or not r[header.index("ID")].strip().isdigit():
            continue  # the units row, or noise
        row = dict(zip(header, r))
        k = {"name": kernel_function(row["Kernel Name"]), "grid": row.get("Grid Size", ""),
             "block": row.get("Block Size", "")}
        for metric, heading, _ in NCU_COLUMNS:
            v = number(row.get(metric, ""))
            k[heading] = None if v is None else v * (time_scale if heading == "time_us" else 1)
        kernels.append(k)
    return kernels


def judge_ncu(d, rc, details):
    path = os.path.join(d, "kernels.csv")
    kernels = ncu_kernels(path) if os.path.exists(path) else []
    if not kernels:
        return "fail", "no profiled kernel (exit %d): see the log" % rc, ""
    total = sum(k["time_us"] or 0 for k in kernels)
    top = sorted(kernels, key=lambda k: -(k["time_us"] or 0))[:10]
    details.update({"kernels": len(kernels), "total_us": total, "top": top})
    width = 72
    lines = ["  %-*s %s" % (width, "the 10 most expensive kernels of one captured training step",
                            " ".join(h for _, h, _ in NCU_COLUMNS))]
    for k in top:
        name = k["name"] if len(k["name"]) <= width else k["name"][:width - 3] + "..."
        cells = [(fmt % k[h]) if k[h] is not None else "%*s" % (len(fmt % 0), "-") for _, h, fmt in NCU_COLUMNS]
        lines.append("  %-*s %s" % (width, name, " ".join(cells)))
    table = "\n".join(lines)
    with open(os.path.join(d, "top10.txt"), "w") as f:
        f.write(table + "\n")
    return ("pass" if rc == 0 else "fail"), "%d kernels, %.1f us of kernel time in the step" % (len(kernels), total), table


def judge(kind, d, rc, details, target):
    if kind == "gtest":
        return judge_gtest(d, rc, details)
    if kind == "facts":
        return judge_facts(d, rc, details)
    if kind == "ldd":
        return judge_ldd(d, rc, details)
    if kind == "train":
        return judge_train(d, rc, details)
    if kind == "evaluate":
        return judge_evaluate(d, rc, details)
    if kind == "bench_pair":
        return judge_bench_pair(d, rc, details, target)
    if kind == "scenes":
        return judge_scenes(d, rc, details, target)
    if kind == "sanitizer":
        return judge_sanitizer(d, rc, details)
    if kind == "plain":
        return ("pass" if rc == 0 else "fail"), "exit %d" % rc
    raise SystemExit("gpu_report.py: unknown step kind '%s'" % kind)


def cmd_step(a):
    details, table = {}, ""
    if a.not_run:
        status, text = "not_run", a.not_run
    elif a.kind == "ncu":
        status, text, table = judge_ncu(a.dir, a.rc, details)
    else:
        status, text = judge(a.kind, a.dir, a.rc, details, a.target)
    if a.rc in (124, 137) and not a.not_run:  # timeout(1): 124, or 137 after --kill-after
        status, text = "timeout", "stopped after %d s (its limit); %s" % (a.limit, text)
    record = {"name": a.name, "kind": a.kind, "status": status, "seconds": round(a.seconds, 1),
              "limit_s": a.limit, "rc": a.rc, "summary": text, "details": details}
    with open(a.steps, "a") as f:
        f.write(json.dumps(record) + "\n")
    print("[%-7s] %-18s %6.1f s  %s" % (status, a.name, a.seconds, text))
    if table:
        print(table)
    if status == "no_gpu":  # the one line that says why nothing else can run
        print("gpu_check: no GPU: %s (every CUDA test skipped); this stage stops here" % details["no_gpu"])
    sys.stdout.flush()
    return EXIT[status]


def cmd_summary(a):
    steps = [json.loads(line) for line in read(a.steps).splitlines() if line.strip()]
    statuses = [s["status"] for s in steps]
    if "no_gpu" in statuses:
        result = "no_gpu"
    elif any(s in ("fail", "timeout") for s in statuses):
        result = "fail"
    elif "not_run" in statuses or not a.final:
        result = "incomplete"
    else:
        result = "pass"
    message = a.message
    if not message and result == "no_gpu":
        message = "no GPU: " + next(s["details"]["no_gpu"] for s in steps if s["status"] == "no_gpu")
    facts = next((s["details"] for s in steps if s["kind"] == "facts"), {})
    steps = [dict(s, details={}) if s["kind"] == "facts" else s for s in steps]  # facts appear once
    summary = {
        "stage": a.stage,
        "result": result,
        "message": message or None,
        "started": a.started,
        "finished": a.finished,
        "budget_s": a.budget,
        "build": key_values(read(a.build_info)) if a.build_info else {},
        "tree_commit": a.tree_commit or None,
        "facts": facts,
        "steps": steps,
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.out)
    print(result)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("step")
    s.add_argument("--steps", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--kind", required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--rc", type=int, default=0)
    s.add_argument("--seconds", type=float, default=0)
    s.add_argument("--limit", type=int, default=0)
    s.add_argument("--target", type=float, default=0)
    s.add_argument("--not-run", default="", help="the step did not run: why")
    s = sub.add_parser("summary")
    s.add_argument("--steps", required=True)
    s.add_argument("--stage", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--build-info", default="")
    s.add_argument("--tree-commit", default="")
    s.add_argument("--started", default="")
    s.add_argument("--finished", default="")
    s.add_argument("--budget", type=int, default=0)
    s.add_argument("--message", default="")
    s.add_argument("--final", action="store_true", help="the stage ended (else: a partial summary)")
    s = sub.add_parser("gtest-counts")
    s.add_argument("xml")
    a = ap.parse_args()
    if a.command == "step":
        return cmd_step(a)
    if a.command == "summary":
        return cmd_summary(a)
    counts, failed, skips = gtest_counts(a.xml)
    print(json.dumps(dict(counts, failed_tests=failed, skip_messages=skips[:1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
