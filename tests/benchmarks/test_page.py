"""docs/benchmarks.md is the rendering of the committed measurements."""

from benchmarks.__main__ import PAGE, main, render


def test_benchmarks_page_is_the_rendering_of_its_json():
    assert main(["--check"]) == 0
    text = render()
    assert PAGE.read_text() == text
    assert "| operator | ipm s | JAX s | ipm / JAX |" in text and "python -m benchmarks.ntk" in text
