"""One colour per meaning, colour-blind safe, and a mark besides colour for right/wrong and the winner."""

import pytest

from cnnviz.draw.palette import DIVERGING, MARKS, MEANINGS, OKABE_ITO, rgb, rgba


def test_every_meaning_has_its_own_okabe_ito_colour():
    colours = list(MEANINGS.values())
    assert len(set(colours)) == len(colours)  # one colour per meaning, never shared
    assert set(colours) <= set(OKABE_ITO.values())


def test_right_wrong_and_winner_carry_a_mark_besides_colour():
    assert {"right", "wrong", "winner"} <= set(MARKS)
    assert MARKS["right"] != MARKS["wrong"]


def test_the_diverging_scale_is_light_in_the_middle_for_zero():
    mid = dict((p, c) for p, c in DIVERGING)[0.5]
    assert min(int(mid[k : k + 2], 16) for k in (1, 3, 5)) > 230


def test_colours_by_name():
    assert rgb("window") == (0xE6, 0x9F, 0x00)
    assert rgba("padding", 0.5) == "rgba(153, 153, 153, 0.5)"
    with pytest.raises(ValueError, match="no colour is called 'purple'"):
        rgb("purple")
