"""A static table as one markdown element (`cnnviz.draw.table`): every cell shows exactly its text."""

from cnnviz.draw.table import escape, markdown_table, read_markdown_table
from cnnviz.lessons.layers import analyse
from cnnviz.lessons.layertable import ALL_PRESETS, table_records


def test_a_table_reads_back_cell_for_cell():
    records = [{"a|b": "x * y_z", "n": "1,024"}, {"a|b": "$5 :smile: [link](u) `c` \\ end", "n": ""}]
    text = markdown_table(records, right=["n"])
    assert text.splitlines()[1] == "|---|---:|"
    assert read_markdown_table(text) == [{k: str(v) for k, v in r.items()} for r in records]


def test_every_layer_table_reads_back():
    for preset in ALL_PRESETS.values():
        records = table_records(analyse(preset.input_shape, preset.layers).rows)
        shown = read_markdown_table(markdown_table(records))
        assert shown == [{k: str(v) for k, v in r.items()} for r in records], preset.title


def test_markdown_marks_are_escaped_and_lines_joined():
    assert escape("C_out*2") == "C\\_out\\*2"
    assert "\n" not in escape("two\nlines")
    assert markdown_table([]) == ""
