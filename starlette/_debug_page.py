"""The pieces of the HTML traceback page that `ServerErrorMiddleware(debug=True)` renders.

All are `str.format` templates; every value interpolated into them is HTML-escaped by the
caller (`starlette.middleware.errors`), except the fragments those templates produced.
"""

from __future__ import annotations

STYLES = """
p {
    color: #211c1c;
}
.traceback-container {
    border: 1px solid #038BB8;
}
.traceback-title {
    background-color: #038BB8;
    color: lemonchiffon;
    margin: 0;
    padding: 0.75em 1em;
    font-size: 1.25em;
}
.frame-title {
    margin: 0.5em;
    padding: 0.6em 0.8em;
    border: 1px solid #bcd6e4;
    background-color: #eaf5fb;
    color: #1c2326;
}
.frame-filename,
.frame-line {
    font-family: ui-monospace, monospace;
}
.lineno {
    display: inline-block;
    min-width: 3em;
    color: #6b7780;
}
.center-line {
    background-color: #038BB8;
    color: #fbfaf0;
}
.center-line .lineno {
    color: inherit;
}
.source-code {
    margin: 0 0.5em 0.75em 1.5em;
    font-size: 0.9em;
}
.collapse-btn {
    float: right;
    padding: 0 0.4em;
    border: 1px solid #96aebb;
    cursor: pointer;
    user-select: none;
}
.collapsed {
    display: none;
}
"""

JS = """
<script type="text/javascript">
    function collapse(element){
        const frameId = element.getAttribute("data-frame-id");
        const frame = document.getElementById(frameId);
        const hidden = frame.classList.toggle("collapsed");
        element.textContent = hidden ? "+" : "\u2012";
    }
</script>
"""

TEMPLATE = """
<html>
    <head>
        <style type='text/css'>
            {styles}
        </style>
        <title>Starlette Debugger</title>
    </head>
    <body>
        <h1>500 Server Error</h1>
        <h2>{error}</h2>
        <div class="traceback-container">
            <p class="traceback-title">Traceback (most recent call first)</p>
            {exc_html}
        </div>
        {js}
    </body>
</html>
"""

FRAME_TEMPLATE = """
<div>
    <p class="frame-title">File <span class="frame-filename">{frame_filename}</span>,
    line <i>{frame_lineno}</i>,
    in <b>{frame_name}</b>
    <span class="collapse-btn" data-frame-id="{frame_id}" onclick="collapse(this)">{collapse_button}</span>
    </p>
    <div class="source-code{collapsed}" id="{frame_id}">{code_context}</div>
</div>
"""

LINE = """
<p><span class="frame-line">
<span class="lineno">{lineno}.</span> {line}</span></p>
"""

CENTER_LINE = """
<p class="center-line"><span class="frame-line center-line">
<span class="lineno">{lineno}.</span> {line}</span></p>
"""
