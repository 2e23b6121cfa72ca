"""tools/gpu_report.py, which judges each step of tools/gpu_check.sh from the files the step left:
the verdicts that decide a GPU lease, checked here on files in the formats gtest, train_gpu,
tools/bench_vs_torch.sh and ncu write. Run: python3 -m unittest tests/tools/test_gpu_report.py"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("gpu_report", os.path.join(ROOT, "tools", "gpu_report.py"))
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

GTEST_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" failures="1" disabled="1" errors="0" name="AllTests">
  <testsuite name="A" tests="5" failures="1" disabled="1" skipped="2" errors="0">
    <testcase name="Passes" status="run" result="completed" classname="A"/>
    <testcase name="Fails" status="run" result="completed" classname="A">
      <failure message="x" type=""><![CDATA[x]]></failure>
    </testcase>
    <testcase name="SkipsOne" status="run" result="skipped" classname="A">
      <skipped message="a.cu:3&#x0A;{reason}"><![CDATA[a.cu:3
{reason}]]></skipped>
    </testcase>
    <testcase name="SkipsTwo" status="run" result="skipped" classname="A">
      <skipped message="a.cu:9&#x0A;{reason}"><![CDATA[a.cu:9
{reason}]]></skipped>
    </testcase>
    <testcase name="DISABLED_Off" status="notrun" result="suppressed" classname="A"/>
  </testsuite>
</testsuites>
"""

ALL_SKIPPED_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0" disabled="0" errors="0" name="AllTests">
  <testsuite name="CudaSmoke" tests="2" failures="0" disabled="0" skipped="2" errors="0">
    <testcase name="A" status="run" result="skipped" classname="CudaSmoke">
      <skipped message="s.cu:18&#x0A;no GPU: no usable GPU: no CUDA device found"/>
    </testcase>
    <testcase name="B" status="run" result="skipped" classname="CudaSmoke">
      <skipped message="s.cu:33&#x0A;no GPU: no usable GPU: no CUDA device found"/>
    </testcase>
  </testsuite>
</testsuites>
"""

BENCH_PAIR_LOG = """== train (bench CNN, batch 64): cuda, twin bench-train --batch 64 --steps 200 , 3 rounds, 4 threads, load average: 0.1 0.1 0.1
round 1: locdet 90000.0  torch 30000.0  ratio 3.00
round 2: locdet 91000.0  torch 31000.0  ratio 2.94
round 3: locdet 89000.0  torch 29000.0  ratio 3.07
train (bench CNN, batch 64) locdet images_per_second (median): 90000.0
train (bench CNN, batch 64) torch images_per_second (median): 30000.0
train (bench CNN, batch 64) ratio locdet/torch (of medians): 3.00
load average after: 0.1 0.1 0.1
"""

NCU_RAW = """==PROF== Disconnected from process 7
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","gpu__time_duration.sum","sm__warps_active.avg.pct_of_peak_sustained_active"
"","","","","","","","","","","","nsecond","%"
"0","7","bench","h","void locdet::k<float>(float *, int)","1","13","(256, 1, 1)","(40, 1, 1)","0","9.0","1,500","45.5"
"1","7","bench","h","sm90_xmma_gemm","1","13","(128, 1, 1)","(90, 1, 1)","0","9.0","12,000","30.0"
"""

NCU_DETAILS = """"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"
"0","7","bench","h","void locdet::k<float>(float *, int)","1","13","(256, 1, 1)","(40, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","usecond","1.50"
"0","7","bench","h","void locdet::k<float>(float *, int)","1","13","(256, 1, 1)","(40, 1, 1)","0","9.0","Command line profiler metrics","sm__warps_active.avg.pct_of_peak_sustained_active","%","45.5"
"1","7","bench","h","sm90_xmma_gemm","1","13","(128, 1, 1)","(90, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","msecond","0.012"
"""


class StepJudges(unittest.TestCase):
    def folder(self, files):
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(d))
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        return d

    def test_gtest_counts_each_case_once(self):
        d = self.folder({"tests.xml": GTEST_XML.format(reason="flaky on purpose")})
        details = {}
        status, text = gr.judge("gtest", d, 1, details, 0)
        self.assertEqual(status, "fail")
        self.assertEqual({k: details[k] for k in ("tests", "passed", "failed", "skipped", "disabled")},
                         {"tests": 5, "passed": 1, "failed": 1, "skipped": 2, "disabled": 1})
        self.assertEqual(details["failed_tests"], ["A.Fails"])

    def test_every_test_skipped_for_want_of_a_gpu_is_no_gpu(self):
        details = {}
        status, _ = gr.judge("gtest", self.folder({"tests.xml": ALL_SKIPPED_XML}), 0, details, 0)
        self.assertEqual(status, "no_gpu")
        self.assertEqual(details["no_gpu"], "no CUDA device found")

    def test_a_skip_on_a_gpu_host_fails_the_step(self):
        xml = ALL_SKIPPED_XML.replace("no GPU: no usable GPU: no CUDA device found", "needs two GPUs", 1)
        status, _ = gr.judge("gtest", self.folder({"tests.xml": xml}), 0, {}, 0)
        self.assertEqual(status, "fail")

    def test_no_xml_fails(self):
        status, text = gr.judge("gtest", self.folder({"log.txt": "Segmentation fault"}), 139, {}, 0)
        self.assertEqual(status, "fail")
        self.assertIn("no gtest XML", text)

    def train_folder(self, executor):
        metrics = [{"kind": "train", "step": 1000, "images_per_second": 51234.5, "executor": executor},
                   {"kind": "val", "score": 0.9}]
        return self.folder({"run/metrics.jsonl": "\n".join(json.dumps(m) for m in metrics) + "\n",
                            "run/eval.json": json.dumps({"images": 10000, "accuracy": 0.96, "mean_iou": 0.87})})

    def test_training_needs_a_captured_cuda_graph(self):
        details = {}
        self.assertEqual(gr.judge("train", self.train_folder(gr.CAPTURED), 0, details, 0)[0], "pass")
        self.assertEqual(details["test"]["accuracy"], 0.96)
        status, text = gr.judge("train", self.train_folder("cuda eager"), 0, {}, 0)
        self.assertEqual(status, "fail")
        self.assertIn("expected 'cuda graph (captured)'", text)

    def test_evaluate_must_repeat_train_gpus_figures_exactly(self):
        ref = json.dumps({"images": 10000, "accuracy": 0.9594, "mean_iou": 0.868})
        same = {"ref_localizer.json": ref, "eval_localizer.json": ref, "predict/test.json": "{}"}
        self.assertEqual(gr.judge("evaluate", self.folder(same), 0, {}, 0)[0], "pass")
        other = dict(same, **{"eval_localizer.json": json.dumps({"accuracy": 0.9595, "mean_iou": 0.868})})
        status, text = gr.judge("evaluate", self.folder(other), 0, {}, 0)
        self.assertEqual(status, "fail")
        self.assertIn("DIFFERS", text)

    def test_bench_pair_reads_the_ratio_and_reports_the_target(self):
        details = {}
        status, text = gr.judge("bench_pair", self.folder({"log.txt": BENCH_PAIR_LOG}), 0, details, 2.0)
        self.assertEqual((status, details["ratio"], details["target_met"]), ("pass", 3.0, True))
        details = {}
        gr.judge("bench_pair", self.folder({"log.txt": BENCH_PAIR_LOG}), 0, details, 4.0)
        self.assertFalse(details["target_met"])  # a missed target is reported, not a failure
        status, _ = gr.judge("bench_pair", self.folder({"log.txt": "Traceback ..."}), 1, {}, 2.0)
        self.assertEqual(status, "fail")

    def test_ncu_both_csv_layouts_give_the_same_kernels(self):
        for csv_text in (NCU_RAW, NCU_DETAILS):
            details = {}
            status, text, table = gr.judge_ncu(self.folder({"kernels.csv": csv_text}), 0, details)
            self.assertEqual(status, "pass")
            self.assertEqual([(k["name"], round(k["time_us"], 3)) for k in details["top"]],
                             [("sm90_xmma_gemm", 12.0), ("locdet::k<float>", 1.5)])
            self.assertEqual(details["top"][1]["occupancy_%"], 45.5)
            self.assertIn("locdet::k<float>", table)
        status, _, _ = gr.judge_ncu(self.folder({"kernels.csv": "==ERROR== profiling failed\n"}), 1, {})
        self.assertEqual(status, "fail")


class StageResult(unittest.TestCase):
    def result(self, statuses, final=True):
        d = tempfile.mkdtemp()
        steps = os.path.join(d, "steps.jsonl")
        with open(steps, "w") as f:
            for i, s in enumerate(statuses):
                details = {"no_gpu": "no CUDA device found"} if s == "no_gpu" else {}
                f.write(json.dumps({"name": "s%d" % i, "kind": "plain", "status": s, "details": details}) + "\n")
        a = argparse.Namespace(steps=steps, stage=1, out=os.path.join(d, "summary.json"), build_info="",
                               tree_commit="", started="", finished="", budget=230, message="", final=final)
        with contextlib.redirect_stdout(io.StringIO()):
            gr.cmd_summary(a)
        with open(a.out) as f:
            return json.load(f)

    def test_result(self):
        self.assertEqual(self.result(["pass", "pass"])["result"], "pass")
        self.assertEqual(self.result(["pass", "pass"], final=False)["result"], "incomplete")
        self.assertEqual(self.result(["pass", "not_run"])["result"], "incomplete")
        self.assertEqual(self.result(["pass", "timeout", "not_run"])["result"], "fail")
        summary = self.result(["pass", "no_gpu"])
        self.assertEqual((summary["result"], summary["message"]), ("no_gpu", "no GPU: no CUDA device found"))


if __name__ == "__main__":
    unittest.main()
