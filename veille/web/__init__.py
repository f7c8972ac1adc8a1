"""The reports site: filter, search, export, Atom, iCalendar."""
