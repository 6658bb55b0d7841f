"""The load benchmarks run end to end against the shipped stack (`warm-transfer up`), as briefly as proves they
work: what they count adds up, and their results are written; the plots are drawn from the results. Speed itself
is never asserted here."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from bench import first_task, floor, gc_pauses, latency, open_transfers, plots, stack, throughput
from workers.devserver import dynamic_config_args

LATEST_RESULTS = stack.RESULTS  # bench/results/, before the tests point the benchmarks elsewhere


@pytest.fixture(autouse=True)
def results_in(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "RESULTS", tmp_path)
    monkeypatch.setattr(plots, "RESULTS", tmp_path)
    return tmp_path


async def test_latency_times_every_step_and_both_alerts_of_every_transfer(results_in):
    result = await latency.main(rate=8, seconds=0.5, rounds=2, reply_after=0.1, in_clear=True)

    steps = ["start", "proceed", "accept", "ack", "replied", "outcome", "feedback_rep", "feedback_prospect"]
    assert {name: result["ours_ms"][name]["n"] for name in steps + ["alert_sse", "alert_webhook"]} == dict.fromkeys(
        steps + ["alert_sse", "alert_webhook"], 4)
    assert result["plain_ms"]["update"]["n"] == 4 * 7 and result["plain_ms"]["update_with_start"]["n"] == 4
    assert {name: result["ours_in_clear_ms"][name]["n"] for name in steps} == dict.fromkeys(steps, 4)
    assert result["ratio_start_p50_in_clear_to_fastest_plain"] > 0
    assert result["rounds"] == 2 and result["reply_after_seconds"] == 0.1 and result["store_check"] == "ok"
    busy = result["cores_busy"]
    assert all(busy[part] > 0 for part in ("api", "worker", "temporal", "load_generator"))
    assert busy["all"] == round(sum(busy[part] for part in ("api", "worker", "temporal", "load_generator")), 2)
    assert all(result["cpu_ms"][f"{part}_cpu_ms_per_transfer"] > 0 for part in ("api", "worker", "temporal"))
    written = json.loads((results_in / "latency_in_clear.json").read_text())
    assert len(written["samples_ms"]["ours"]["alert_sse"]) == 4 and written["machine"]["cpus"] >= 1


def _burn_cpu(seconds: float) -> float:
    """Burn `seconds` of this process's CPU; the wall-clock seconds that took (more when other work shares the
    cores, as other tests do)."""
    began, began_wall = time.process_time(), time.perf_counter()
    while time.process_time() - began < seconds:
        pass
    return time.perf_counter() - began_wall


def test_a_paused_cpu_meter_counts_neither_the_cpu_nor_the_time_spent_while_paused():
    meter = stack.CpuMeter({"this_process": os.getpid()})
    counted = _burn_cpu(0.2)
    with meter.paused():
        paused = _burn_cpu(0.6)
    counted += _burn_cpu(0.2)

    spent = meter.spent()["this_process"]
    assert 0.35 <= spent < 0.65  # the 0.6 s burnt while paused would make it at least 0.95
    measured_time = spent / meter.cores()["this_process"]
    assert measured_time < counted + paused / 2  # the time spent while paused is left out of the cores' average


def test_latency_rounds_split_the_arrivals_evenly():
    assert latency.round_sizes(8, 6) == [2, 2, 1, 1, 1, 1]
    assert latency.round_sizes(300, 6) == [50] * 6
    assert latency.round_sizes(2, 6) == [1, 1] and latency.round_sizes(5, 0) == [5]


async def test_throughput_counts_completed_transfers_and_plain_workflows(results_in):
    result = await throughput.main([1, 2], seconds=0.1)  # each of the loops runs at least once

    for rows in (result["happy_path_transfers"], result["one_activity_workflows"], result["plain_happy_paths"]):
        assert [row["concurrency"] for row in rows] == [1, 2] and all(row["completed"] >= 1 for row in rows)
    assert all(result["happy_path_transfers"][0][f"{part}_cpu_ms_per_transfer"] > 0
               for part in ("api", "worker", "temporal", "load_generator"))
    cpu = result["cpu_ms_at_best"]
    assert cpu["budget_for_a_third_of_one_activity"] == round(3 * cpu["one_activity"], 1)
    assert cpu["plain_happy_path_and_our_load_generator"] > cpu["plain_happy_path"] > 0


async def test_floor_takes_a_transfers_temporal_steps_and_leaves_each_element_out_in_turn(results_in):
    result = await floor.main(rounds=2, seconds=0.05, concurrency=2)  # each of the loops runs at least once

    # The shaped workflow has as many markers, upserts, timers, activities and updates as a real transfer.
    assert result["shape_check"]["transfer_shaped"] == result["shape_check"]["transfer"]
    assert result["shape_check"]["transfer"]["TIMER_STARTED"] > 0
    variants = {"ours", "transfer_shaped", "plain_happy_path", "one_activity", "transfer_shaped_over_http",
                "plain_happy_path_over_http", *(f"without_{element}" for element in floor.ELEMENTS)}
    assert set(result["runs"]) == variants and all(len(rows) == 2 for rows in result["runs"].values())
    assert all(row["per_second"] > 0 and row["temporal_cpu_ms"] > 0 for row in result["medians"].values())
    assert all(result["medians"]["ours"][f"{part}_cpu_ms"] > 0 for part in ("api", "worker", "load_generator"))
    # The relayed variants' HTTP service is measured as a process of its own, as our API is.
    assert all(result["medians"][f"{name}_over_http"]["relay_cpu_ms"] > 0
               for name in ("transfer_shaped", "plain_happy_path"))
    relayed = result["medians"]["transfer_shaped_over_http"]
    assert result["cpu_ms"]["transfer_shaped_over_http"] > relayed["relay_cpu_ms"] + relayed["temporal_cpu_ms"]
    assert set(result["element_costs"]) == set(floor.ELEMENTS)
    assert result["cpu_ms"]["budget_for_a_third_of_one_activity"] == round(3 * result["cpu_ms"]["one_activity"], 1)
    assert json.loads((results_in / "floor.json").read_text())["rounds"] == 2


async def test_open_transfers_stay_queued_and_the_probe_still_starts(results_in, monkeypatch):
    monkeypatch.setattr(open_transfers, "SETTLE_WINDOW", 0.5)
    result = await open_transfers.main(count=6, concurrency=2, probes=7, settle_seconds=0.6)

    assert result["memory"][0]["open"] == 0 and result["memory"][-1]["open"] == 6
    assert all(reading[f"{part}rss_mib"] > 0 for reading in result["memory"] for part in ("", "api_", "temporal_"))
    assert result["start_ms_idle"]["n"] == result["start_ms_with_open"]["n"] == 2
    assert len(result["cores_busy_while_settling"]) == 2  # a whole window and what was left of the wait
    assert all(probe["cores_busy"]["all"] > 0 for probe in (result["start_ms_idle"], result["start_ms_with_open"]))
    collections = result["gc_pauses"]
    assert set(collections["while_opening"]) == {"api", "worker", "temporal"}
    assert set(collections["during_loaded_probes"]) == {"api", "worker", "temporal", "load_generator"}
    assert set(collections["during_loaded_probes"]["temporal"]) == {"go"}
    split = collections["loaded_probes_by_server_collections"]
    assert split["during_a_server_collection"]["n"] + split["clear_of_them"]["n"] == 2
    assert [probe["ms"] for probe in collections["slowest_loaded_probes"]] == sorted(
        (probe["ms"] for probe in collections["slowest_loaded_probes"]), reverse=True)
    assert collections["slowest_loaded_probes"][0]["ms"] == result["start_ms_with_open"]["max"]
    for probes in (result["start_ms_idle"], result["start_ms_with_open"]):  # where each start's time went
        assert set(probes["phases"]) == set(stack.START_PHASES)
        assert all(phase["n"] == 2 and phase["p50"] >= 0 for phase in probes["phases"].values())
        assert probes["phases"]["worker"]["p50"] > 0
    slowest = collections["slowest_loaded_probes"][0]
    assert 0 < sum(slowest["phases"].values()) <= slowest["ms"] + 1  # the phases add up to the start, to a clock tick


async def test_gc_pauses_are_logged_per_process_and_the_census_counts_the_workers_objects(results_in):
    result = await gc_pauses.main(open_count=12, concurrency=2, seconds=0.1)  # each of the loops runs at least once

    assert result["completed"] >= 1 and set(result["gc_pauses"]) == {"api", "worker"}
    for name, generations in result["gc_pauses"].items():
        assert set(generations) == {"gen0", "gen1", "gen2"}
        total = sum(generation["total_ms"] for generation in generations.values())
        assert result["gc_ms_per_transfer"][name] == round(total / result["completed"], 2)
    census = result["worker_census"]
    assert 0 < census["survivors"] <= census["young"] + census["middle"] + census["old"]
    assert sum(count for _, count in census["survivor_types"]) <= census["survivors"]
    assert census["frozen"] > 0  # settle_heap froze what start-up built
    assert json.loads((results_in / "gc_pauses.json").read_text())["worker_census"] == census


def test_a_slow_probe_is_shown_with_the_collections_that_overlapped_it():
    probes = [{"at": 100.0, "ms": 10.0, "phases": {"worker": 5.0}},
              {"at": 200.0, "ms": 50.0, "phases": {"worker": 40.0}},
              {"at": 300.0, "ms": 20.0, "phases": {"worker": 6.0}}]
    collections = {"worker": [{"at": 200.02, "gen": 1, "ms": 30.0}, {"at": 150.0, "gen": 2, "ms": 200.0}],
                   "load_generator": [{"at": 199.99, "gen": 0, "ms": 20.0}, {"at": 300.03, "gen": 0, "ms": 1.0}]}

    assert open_transfers.slowest(probes, collections, count=2) == [
        {"ms": 50.0, "phases": {"worker": 40.0}, "collections": [{"process": "worker", "gen": 1, "ms": 30.0},
                                                                 {"process": "load_generator", "gen": 0, "ms": 20.0}]},
        {"ms": 20.0, "phases": {"worker": 6.0}, "collections": []}]


def test_probes_are_split_by_whether_a_server_collection_overlapped_them():
    probes = [{"at": 100.0, "ms": 10.0}, {"at": 100.5, "ms": 40.0}, {"at": 101.0, "ms": 30.0}, {"at": 102.0, "ms": 5.0}]
    server = [{"at": 100.52, "gen": "go", "ms": 500.0}]  # from within the second probe to within the third

    split = open_transfers.by_server_collections(probes, server)

    assert split["during_a_server_collection"]["n"] == 2 and split["during_a_server_collection"]["max"] == 40.0
    assert split["clear_of_them"]["n"] == 2 and split["clear_of_them"]["max"] == 10.0


def test_gc_pauses_are_summed_per_generation_within_the_window(tmp_path, monkeypatch):
    running = stack.Stack("http://127.0.0.1:1", "127.0.0.1:2", tmp_path, process=None)
    monkeypatch.setattr(stack.Stack, "pids", lambda self: {"api": 10, "worker": 11})
    lines = [{"argv": ["warm-transfer", "worker"]}, {"at": 5.0, "gen": 0, "ms": 1.0, "collected": 0},
             {"at": 10.0, "gen": 0, "ms": 2.0, "collected": 3}, {"at": 11.0, "gen": 0, "ms": 4.0, "collected": 0},
             {"at": 12.0, "gen": 2, "ms": 150.0, "collected": 9}, {"census": 15.0, "garbage": 3},
             {"at": 20.0, "gen": 1, "ms": 30.0, "collected": 0}]
    (tmp_path / "gc-11.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (tmp_path / "gc-99.jsonl").write_text(json.dumps({"argv": ["a process not up's"]}) + "\n")

    assert running.gc_pauses(since=10.0, until=20.0) == {"worker": {
        "gen0": {"n": 2, "total_ms": 6.0, "p99_ms": 4.0, "max_ms": 4.0},
        "gen1": {"n": 0, "total_ms": 0, "p99_ms": 0.0, "max_ms": 0.0},
        "gen2": {"n": 1, "total_ms": 150.0, "p99_ms": 150.0, "max_ms": 150.0}}}


def test_the_temporal_servers_collections_are_read_from_gos_trace_on_the_monotonic_clock(tmp_path, monkeypatch):
    running = stack.Stack("http://127.0.0.1:1", "127.0.0.1:2", tmp_path, process=None)
    monkeypatch.setattr(stack.Stack, "pids", lambda self: {"api": 10, "temporal": 12})
    monkeypatch.setattr(stack, "process_start", lambda pid: {12: 1000.0}[pid])
    (tmp_path / "temporal.log").write_text(
        "gc 1 @0.011s 2%: 0.010+1.5+0.004 ms clock, 0.021+0.1/1.2/0+0.009 ms cpu, 4->4->1 MB, 4 MB goal, 2 P\n"
        '{"level":"warn","msg":"a server log line"}\n'
        "gc 2 @5.250s 4%: 0.11+611+0.005 ms clock, 0.22+0.16/316/186+0.010 ms cpu, 295->313->158 MB, 2 P\n"
        "gc 3 @9.000s 4%: 0.37+479+0.008 ms clock, 0.74+3.5/242/151+0.017 ms cpu, 286->306->160 MB, 2 P\n")

    assert running.go_collections(since=1001.0, until=1009.0) == [{"at": 1005.25, "gen": "go", "ms": 611.115}]
    assert stack.pause_summaries({"temporal": running.go_collections(since=1000.0)})["temporal"]["go"] == {
        "n": 3, "total_ms": 1092.0, "p99_ms": 611.1, "max_ms": 611.1}


async def test_a_stack_keeps_its_data_directory_only_when_the_run_failed():
    async with stack.running_stack() as went_well:
        assert (went_well.data_dir / "up.log").exists()
    assert not went_well.data_dir.exists()

    with pytest.raises(RuntimeError, match="a failed run"):
        async with stack.running_stack() as failed:
            raise RuntimeError("a failed run")
    assert (failed.data_dir / "up.log").exists()  # kept, to read what went wrong
    shutil.rmtree(failed.data_dir)


def test_a_process_start_is_on_the_monotonic_clock():
    assert 0 < time.monotonic() - stack.process_start(os.getpid()) < 3600  # this test's process started before it


async def test_first_task_measures_both_ways_to_a_first_answer_on_each_configuration(results_in):
    result = await first_task.main(count=3)

    configurations = result["configurations"]
    assert list(configurations) == ["temporal defaults", "only history.*", "only matching.*", "ours (up)"]
    assert configurations["temporal defaults"]["flags"] == []
    assert configurations["ours (up)"]["flags"] == dynamic_config_args()
    assert all(row[way]["n"] == 3 for row in configurations.values() for way in first_task.WAYS)
    assert json.loads((results_in / "first_task.json").read_text())["count"] == 3


def test_the_plots_are_drawn_from_the_latest_results(results_in):
    pytest.importorskip("matplotlib", reason="the plots need matplotlib, the `bench` extra that `make bench` installs")
    for name in ("latency", "throughput", "open_transfers"):
        shutil.copy(LATEST_RESULTS / f"{name}.json", results_in)

    drawn = plots.main()

    assert drawn == [str(results_in / f"{name}.png") for name in ("latency", "throughput", "open_transfers")]
    assert all(Path(png).read_bytes().startswith(b"\x89PNG") for png in drawn)
