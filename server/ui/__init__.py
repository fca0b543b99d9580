"""Roomlink's web pages: the member's and the organization's Zoom page, and the demo's own pages."""
