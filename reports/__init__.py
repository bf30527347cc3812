"""reports: bound-vs-measured reports (Markdown, figures, JSON) and the ``resnet-ode`` CLI."""
