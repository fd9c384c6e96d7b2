"""The pixel: p.js (the browser side), its wire format, and the hot-path checks of /collect."""
