import gc

from workers.runtime import settle_heap


def test_settle_heap_freezes_start_up_objects_and_collects_less_often():
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == (10_000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
