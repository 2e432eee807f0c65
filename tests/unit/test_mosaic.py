from __future__ import annotations

import numpy as np
import pytest

from storewatch.detect import mosaic


def test_tiles_do_not_overlap_and_keep_a_gap():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 600, (7, 2))
    windows = np.concatenate([xy, xy + rng.uniform(40, 200, (7, 2))], axis=1)
    plan = mosaic.pack(windows, scale=0.54, gap=16)
    assert plan.width % 32 == 0 and plan.height % 32 == 0
    t = plan.tiles
    assert (t[:, 0] + t[:, 2] <= plan.width).all() and (t[:, 1] + t[:, 3] <= plan.height).all()
    for i in range(len(t)):
        for j in range(i + 1, len(t)):
            apart_x = t[i, 0] + t[i, 2] + 16 <= t[j, 0] or t[j, 0] + t[j, 2] + 16 <= t[i, 0]
            apart_y = t[i, 1] + t[i, 3] + 16 <= t[j, 1] or t[j, 1] + t[j, 3] + 16 <= t[i, 1]
            assert apart_x or apart_y
    # the canvas is not much bigger than the crops it holds
    assert plan.width * plan.height < 2.5 * (t[:, 2] * t[:, 3]).sum()


def test_boxes_map_back_to_their_window_and_gaps_are_dropped():
    plan = mosaic.pack([[100, 50, 300, 250], [400, 300, 500, 500]], scale=0.5, gap=16)
    (tx, ty, tw, _th), (ux, uy, uw, uh) = plan.tiles.tolist()
    canvas_boxes = np.array(
        [
            [tx + 10, ty + 20, tx + 30, ty + 60],  # inside the first crop
            [ux, uy, ux + uw, uy + uh],  # the whole second crop
            [tx + tw + 2, ty, tx + tw + 14, ty + 10],  # centred in a gap
        ],
        np.float32,
    )
    boxes, rows = mosaic.to_frame(canvas_boxes, plan)
    assert rows.tolist() == [0, 1]
    assert boxes[0].tolist() == pytest.approx([120, 90, 160, 170])
    assert boxes[1].tolist() == pytest.approx([400, 300, 500, 500])


def test_compose_places_each_crop():
    image = np.zeros((200, 300, 3), np.uint8)
    image[20:40, 30:60] = 255
    plan = mosaic.pack([[30, 20, 60, 40]], scale=1.0)
    canvas = mosaic.compose(image, plan, (1, 2, 3))
    x, y, w, h = plan.tiles[0].tolist()
    assert (canvas[y : y + h, x : x + w] == 255).all()
    assert canvas.shape == (32, 32, 3) and (canvas[h:, :] == (1, 2, 3)).all()


@pytest.mark.models
def test_one_mosaic_run_finds_what_windows_find(pets_people):
    from storewatch.core.detections import box_iou

    det, image, people = pets_people
    w = people.xyxy[:, 2] - people.xyxy[:, 0]
    h = people.xyxy[:, 3] - people.xyxy[:, 1]
    windows = np.stack([people.xyxy[:, 0] - w, people.xyxy[:, 1] - h / 3, people.xyxy[:, 2] + w,
                        people.xyxy[:, 3] + h / 3], 1)  # fmt: skip
    found = det.detect_windows(image, windows)
    for box in people.xyxy:
        assert box_iou(box[None], found.xyxy).max() > 0.7
