"""Writes ONNX's backend node tests for the operators convlens reads, from the installed `onnx`
package's own test-case generators (its wheel no longer ships the generated data), in the layout
ONNX's `backend-test-tools generate-data` uses: CASE/model.onnx, CASE/test_data_set_0/*.pb.

Usage: python3 scripts/onnx_node_tests.py OUT_DIR OPERATOR...
"""
import argparse
import sys

import onnx.backend.test.case.model as model_cases
import onnx.backend.test.case.node as node_cases
from onnx.backend.test import cmd_tools


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("operators", nargs="+")
    args = parser.parse_args()
    wanted = set(args.operators)
    cases = [
        c
        for c in node_cases.collect_testcases(None)
        if c.model is not None and any(n.op_type in wanted for n in c.model.graph.node)
    ]
    # generate_data writes whatever model_cases.collect_testcases gives, under CASE.kind ("node").
    model_cases.collect_testcases = lambda: cases
    cmd_tools.generate_data(argparse.Namespace(output=args.out))
    print(f"{len(cases)} node test cases written to {args.out}/node", file=sys.stderr)


if __name__ == "__main__":
    main()
