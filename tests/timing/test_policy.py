"""One MeasurementPolicy: its values reach the child's timing loop and the report's run metadata."""

import json

import pytest

from pytest_cudabench.execution import child
from pytest_cudabench.timing.measure import HostClockBackend, time_callable
from pytest_cudabench.timing.policy import DEFAULT_POLICY, MeasurementPolicy, run_record
from pytest_cudabench.timing.stats import StoppingRule


def test_the_policy_round_trips_as_builtins_and_rejects_unknown_fields():
    policy = MeasurementPolicy(timer="host", cap_s=0.05, checked_calls=3)
    data = json.loads(json.dumps(policy.to_dict()))
    assert MeasurementPolicy.from_dict(data) == policy
    with pytest.raises(ValueError, match="unknown field"):
        MeasurementPolicy.from_dict({**data, "clock": "host"})
    with pytest.raises(ValueError, match="timer"):
        MeasurementPolicy(timer="wall")
    assert run_record() == DEFAULT_POLICY.to_dict() and run_record()["timer"] == "cuda-events"


def test_the_item_budget_is_spread_over_the_scales_unless_capped_per_scale():
    assert DEFAULT_POLICY.scale_cap_s(5) == pytest.approx(DEFAULT_POLICY.item_cap_s / 5)
    assert MeasurementPolicy(cap_s=0.2).scale_cap_s(5) == 0.2
    assert DEFAULT_POLICY.flush_bytes(50 << 20) == 100 << 20 and MeasurementPolicy(l2_flush_factor=0).flush_bytes(1) == 0


def test_the_stopping_rule_and_the_loop_follow_the_policy():
    policy = MeasurementPolicy(timer="host", min_samples=3, min_time_s=0.0, rel_se_target=1.0, warmup_s=0.0,
                               empty_samples=4)
    rule = StoppingRule.of(policy, 1.0)
    assert (rule.min_samples, rule.min_time_s, rule.rel_se_target, rule.max_time_s) == (3, 0.0, 1.0, 1.0)
    result = time_callable(lambda: None, policy=policy, backend=HostClockBackend())
    assert result["events"]["n"] == 3 and result["warmup_calls"] == 1 and not result["cold_cache"]


class _Device:
    def fill(self, buffer, value): pass
    def upload(self, buffer, data): pass
    def allocate(self, key, nbytes): return bytearray(nbytes)
    def pointer(self, buffer): return buffer
    def reset(self, buffer, value): pass
    def copy(self, dst, src): pass
    def download(self, buffer): return bytes(buffer)
    def release(self, key): pass
    def check_error(self): return None


def test_the_child_takes_input_sets_checked_calls_and_cap_from_the_job_policy():
    import types

    import numpy as np

    case = types.SimpleNamespace(arrays={"y": np.zeros(4, np.float32)}, scalars={})
    policy = MeasurementPolicy(timer="host", cap_s=0.02, min_samples=10**9, input_sets=3, checked_calls=5,
                               warmup_s=0.0)  # never converges: the per-scale cap ends the loop
    job = {"args": [{"name": "y", "role": "output", "dtype": "float32"}], "sentinels": [0xFF, 0x7B],
           "timing": {"scales": [{"n": 4}], "policy": policy.to_dict(), "check_seed": 1}}
    events, used_sets = [], set()
    child.time_scales(job, _Device(), lambda y: used_sets.add(id(y)), {}, lambda **m: events.append(m),
                      HostClockBackend(), lambda k, input_set=0: case)
    timed = next(e for e in events if e["event"] == "timed")["timing"]
    assert len(used_sets) == 3 and len(timed["checked_calls"]) == 5
    assert 0.02 <= timed["events"]["elapsed_s"] < 0.5 and not timed["events"]["converged"]


def test_run_cases_names_the_old_timing_keys():
    from pytest_cudabench.execution.runner import _timing_policy

    assert _timing_policy({"seed": 1}) is DEFAULT_POLICY
    with pytest.raises(ValueError, match="MeasurementPolicy"):
        _timing_policy({"seed": 1, "cap_s": 0.05, "clock": "host"})
