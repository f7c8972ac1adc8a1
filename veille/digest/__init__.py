"""The digest stage: a week's items → pandas summaries → HTML and text → email."""
