import math


def total(prices):
    return math.floor(sum(prices) * 100) / 100
