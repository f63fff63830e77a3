"""Replaying strokes through the desktop app's own mouse handlers, as real Tk events."""


def replay(app, strokes, update=False):
    """Draw `strokes` (canvas pixels) on `app.canvas` with real press, motion and release events.

    Tk delivers event_generate events synchronously to the bound handlers; `update` also
    redraws the window after each stroke (for watching it, or a screenshot).
    """
    canvas = app.canvas
    for s in strokes:
        x, y = s[0]
        canvas.event_generate("<Button-1>", x=x, y=y)
        for x, y in s[1:]:
            canvas.event_generate("<B1-Motion>", x=x, y=y, state=0x100)   # Button1Mask held
        canvas.event_generate("<ButtonRelease-1>", x=x, y=y, state=0x100)
        if update:
            canvas.update()
