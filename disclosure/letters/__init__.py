"""Standard letters: Jinja2 templates rendered to HTML, then to PDF (WeasyPrint) and DOCX."""

#: The forms a stored letter is printed in (``output.render_format``); here, so that knowing
#: them does not load the PDF and DOCX libraries.
FORMATS = ("pdf", "docx", "html")
