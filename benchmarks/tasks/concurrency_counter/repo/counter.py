"""A shared counter."""

import threading
import time


class Counter:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def increment(self):
        current = self.value
        time.sleep(0)  # yields to other threads between the read and the write
        self.value = current + 1
