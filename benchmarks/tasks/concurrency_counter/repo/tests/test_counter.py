import threading

from counter import Counter


def test_threads_do_not_lose_updates():
    counter = Counter()
    threads = [threading.Thread(target=lambda: [counter.increment() for _ in range(1000)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value == 8000
