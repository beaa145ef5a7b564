def line(quantity, unit_price):
    return int(quantity * unit_price * 100) / 100
