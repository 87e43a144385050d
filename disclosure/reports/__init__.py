"""Reports rendered from the workflow's pure figures: the annual report's tables in the
official layout (CSV, XLSX, PDF) and the assessment figures per agency and month (CSV,
XLSX, a chart). Nothing here reads the database: the services pass the figures in."""
