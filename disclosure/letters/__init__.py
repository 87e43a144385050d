"""Standard letters: Jinja2 templates rendered to HTML, then to PDF (WeasyPrint) and DOCX."""
