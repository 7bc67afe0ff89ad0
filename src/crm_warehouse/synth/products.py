"""The product catalogue (products_master.csv) with its bad rows."""

from __future__ import annotations

import numpy as np

from crm_warehouse.synth.bad_input import (
    BAD_CATEGORIES,
    BAD_UNIT_SIZES,
    PRODUCT_BAD_CLASSES,
    TX_REF_BAD_UNIT_SIZE,
    TX_REF_UNKNOWN_CATEGORY,
)
from crm_warehouse.synth.basics import random_stream
from crm_warehouse.synth.name_lists import BRANDS
from crm_warehouse.synth.personas import C_ACCESSORY, C_CONSUMABLE, C_DEVICE, C_SPARE, CATEGORIES, PACKS


def build_products(seed: int, n_bad: dict[str, int]):
    """Good catalogue (numpy arrays, product number = index + 1) plus the bad product rows."""
    rng = random_stream(seed, 1)
    cons_nouns = [
        "Filter Cartridge",
        "Water Pods",
        "Coffee Capsules",
        "Cleaning Tabs",
        "Refill Pack",
        "Descaler Sachets",
        "Test Strips",
        "Salt Tablets",
        "Mineral Pods",
        "Flavour Drops",
    ]
    dev_nouns = ["Dispenser", "Purifier", "Brewer", "Softener", "Cooler", "Carbonator", "Filter Jug", "Smart Tap"]
    acc_nouns = [
        "Bottle",
        "Carafe",
        "Glass Set",
        "Travel Mug",
        "Drip Tray",
        "Stand",
        "Carry Bag",
        "Cleaning Brush",
        "Cap Set",
        "Storage Box",
    ]
    spare_nouns = ["Pump", "Valve", "Seal Kit", "Hose", "Power Adapter", "Nozzle", "Gasket", "Sensor"]
    rows = []  # (name, brand, category, unit_size, price_cents)
    for pi, pack in enumerate(PACKS):
        for j in range(10):
            brand = BRANDS[(pi * 3 + j) % len(BRANDS)]
            noun = cons_nouns[j]
            per_unit = rng.uniform(0.08, 0.15) * (pack / 50.0) ** -0.15
            rows.append((f"{brand} {noun} x{pack}", brand, C_CONSUMABLE, str(pack), int(round(pack * per_unit * 100))))
    for j in range(16):
        brand = BRANDS[j % len(BRANDS)]
        rows.append(
            (
                f"{brand} {dev_nouns[j % len(dev_nouns)]} {['S', 'M', 'Pro'][j % 3]}{j + 1}",
                brand,
                C_DEVICE,
                "1",
                int(round(rng.uniform(80, 900)) * 100 - 1),
            )
        )
    for j in range(30):
        brand = BRANDS[(j * 2) % len(BRANDS)]
        rows.append(
            (
                f"{brand} {acc_nouns[j % len(acc_nouns)]} {j // len(acc_nouns) + 1}",
                brand,
                C_ACCESSORY,
                "1" if rng.random() < 0.5 else None,
                int(round(rng.uniform(5, 60) * 100)),
            )
        )
    for j in range(24):
        brand = BRANDS[(j * 5) % len(BRANDS)]
        rows.append(
            (
                f"{brand} {spare_nouns[j % len(spare_nouns)]} {['A', 'B', 'C'][j // len(spare_nouns)]}",
                brand,
                C_SPARE,
                "1" if rng.random() < 0.3 else None,
                int(round(rng.uniform(3, 150) * 100)),
            )
        )
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    n = len(rows)
    cat = np.array([r[2] for r in rows], dtype=np.int8)
    pack = np.array([int(r[3]) if r[2] == C_CONSUMABLE else 1 for r in rows], dtype=np.int64)
    price = np.array([r[4] for r in rows], dtype=np.int64)
    cons_by_pack = np.array([np.flatnonzero((cat == C_CONSUMABLE) & (pack == p)) for p in PACKS])
    # product groups used to re-draw a product that collides within an invoice
    groups = [np.flatnonzero((cat == C_CONSUMABLE) & (pack == p)) for p in PACKS]
    groups += [np.flatnonzero(cat == c) for c in (C_DEVICE, C_ACCESSORY, C_SPARE)]
    group_sizes = np.array([len(g) for g in groups])
    group_members = np.zeros((len(groups), group_sizes.max()), dtype=np.int64)
    for i, g in enumerate(groups):
        group_members[i, : len(g)] = g
    group_of = np.zeros(n, dtype=np.int64)
    for i, g in enumerate(groups):
        group_of[g] = i

    # file rows: good products, then bad ones inserted at random positions
    file_rows = [[f"P{i + 1:04d}", r[0], r[1], CATEGORIES[r[2]], r[3]] for i, r in enumerate(rows)]
    bad_counts = {k: 0 for k in PRODUCT_BAD_CLASSES}
    bad_refs = []  # (product number, tx class, price cents)
    dup_ids = []
    if sum(n_bad.values()):
        extra = []  # (row, insert-after-index or None)
        next_no = n + 1
        for j in range(n_bad["missing_product_id"]):
            c = int(rng.integers(0, 4))
            extra.append(
                (
                    [
                        None,
                        f"Unlabelled item {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        CATEGORIES[c],
                        str(PACKS[j % 5]) if c == C_CONSUMABLE else "1",
                    ],
                    None,
                )
            )
        dup_src = rng.choice(n, size=min(n, n_bad["duplicate_product_id"]), replace=False)
        dup_ids = sorted(file_rows[s][0] for s in dup_src)
        for s in dup_src:
            r = file_rows[s]
            extra.append(([r[0], "Legacy " + r[1], r[2], r[3], r[4]], int(s)))
        for j in range(n_bad["unknown_category"]):
            no = next_no
            next_no += 1
            extra.append(
                (
                    [
                        f"P{no:04d}",
                        f"{BRANDS[j % len(BRANDS)]} Gizmo {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        BAD_CATEGORIES[j % len(BAD_CATEGORIES)],
                        "1",
                    ],
                    None,
                )
            )
            bad_refs.append((no, TX_REF_UNKNOWN_CATEGORY, 1999))
        for j in range(n_bad["invalid_core_unit_size"]):
            no = next_no
            next_no += 1
            extra.append(
                (
                    [
                        f"P{no:04d}",
                        f"{BRANDS[j % len(BRANDS)]} Bulk Refill {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        "consumable",
                        BAD_UNIT_SIZES[j % len(BAD_UNIT_SIZES)],
                    ],
                    None,
                )
            )
            bad_refs.append((no, TX_REF_BAD_UNIT_SIZE, 2499))
        # positions: a float key per row; a duplicate sorts after its original
        keys = list(np.arange(n, dtype=float))
        all_rows = list(file_rows)
        for row, after in extra:
            if after is None:
                k = float(rng.uniform(0, n))
            else:
                k = float(rng.uniform(after + 0.5, n + 0.5))
            all_rows.append(row)
            keys.append(k)
        idx = np.argsort(np.array(keys), kind="stable")
        file_rows = [all_rows[i] for i in idx]
        bad_counts = {k: int(v) for k, v in n_bad.items()}
        bad_counts["duplicate_product_id"] = len(dup_src)
    return {
        "n": n,
        "cat": cat,
        "pack": pack,
        "price": price,
        "cons_by_pack": cons_by_pack,
        "gmem": group_members,
        "gsize": group_sizes,
        "group_of": group_of,
        "other": np.flatnonzero((cat == C_ACCESSORY) | (cat == C_SPARE)),
        "device": np.flatnonzero(cat == C_DEVICE),
        "by_cat": [np.flatnonzero(cat == c) for c in range(4)],
        "file_rows": file_rows,
        "bad_counts": bad_counts,
        "bad_refs": bad_refs,
        "dup_ids": dup_ids,
    }
