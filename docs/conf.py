"""Sphinx configuration of the course website (built by `scripts/build_site`, which copies this file beside the
staged notebooks). The notebooks arrive already executed, so myst-nb only renders them."""
import re

# the library is imported as installed (`pip install -e .`), as a reader's own code would import it

project = "hierspeech-nb"
author = "hierspeech-nb contributors"
copyright = "2026 onwards, hierspeech-nb contributors"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx.ext.viewcode"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# notebooks come executed from the build's cache; never run them here
nb_execution_mode = "off"
nb_output_stderr = "remove"            # progress bars and warnings: the page shows results
nb_merge_streams = True
nb_ipywidgets_js = {}                  # no widget state is saved, and no CDN script either
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True        # $$...$$ inside a paragraph, as Jupyter renders it
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]

# MathJax 3 from the django-static-mathjax wheel, copied into _static/mathjax: the site needs no CDN
mathjax_path = "mathjax/tex-mml-chtml.js"
mathjax3_config = {"options": {"enableMenu": False}}

html_theme = "sphinx_book_theme"
html_title = "hierspeech-nb: HierSpeech++ as a course"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}   # the theme's script refuses an empty mode (a console error)
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False

# --- API reference: docstrings, and nbdev's docments (the comment after each parameter) as parameter lines ---
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "signature"


def _markdown_to_rst(line: str) -> str:
    "Our docstrings are written as Markdown (nbdev shows them so): `code` becomes ``code``, reST markup is escaped."
    parts = re.split(r"(?<!`)`([^`]+)`(?!`)", line)
    def prose(text):   # | and * are markup in reST, and so is a word ending in _ (a reference)
        return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", re.sub(r"(?<!\\)([|*])", r"\\\1", text))
    return "".join(f"``{p}``" if i % 2 else prose(p) for i, p in enumerate(parts))


def _docments_lines(app, what, name, obj, options, lines):
    lines[:] = [_markdown_to_rst(line) for line in lines]
    if what not in ("function", "method", "class"):
        return
    try:
        from fastcore.docments import docments
        target = obj.__init__ if what == "class" and "__init__" in vars(obj) else obj
        if what == "class" and target is obj:
            return
        documented = docments(target, full=False)
    except Exception:   # builtins, C extensions, signatures fastcore cannot read
        return
    if not isinstance(documented, dict):
        return
    present = "\n".join(lines)
    extra = []
    for param, doc in documented.items():
        if not doc or param in ("self", "cls") or f":param {param}:" in present:
            continue
        doc = _markdown_to_rst(doc)
        extra.append(f":returns: {doc}" if param == "return" else f":param {param}: {doc}")
    if extra:
        if lines and lines[-1].strip():
            lines.append("")
        lines.extend(extra)


def setup(app):
    app.connect("autodoc-process-docstring", _docments_lines)
