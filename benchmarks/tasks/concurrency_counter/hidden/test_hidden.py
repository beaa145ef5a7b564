import threading

from counter import Counter


def test_many_threads():
    counter = Counter()
    threads = [threading.Thread(target=lambda: [counter.increment() for _ in range(500)])
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value == 8000
