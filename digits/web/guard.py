"""Who may make the server work, and with what: checked before a request's body is read.

A web page the user visits elsewhere can make the browser send requests to this server (a
`no-cors` POST with `Content-Type: text/plain` or a form needs no permission from it). So a
request that changes nothing still costs CPU and memory, and is refused when:

- it comes from another site: the browser says so in `Sec-Fetch-Site` (anything but
  `same-origin`, or `none` for a request the user typed), or its `Origin` is not this
  server's own address (scheme://host:port, as the request's Host header names it);
- an image is sent as one of the types a page may send without asking (text/plain, forms)
  or with no type: it must say `image/...` (or `application/octet-stream`).

Programs such as curl send neither header, and are served as before.
"""
from digits.web.bad_request import BadRequest

ALLOWED_FETCH_SITES = ("same-origin", "none")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
CROSS_SITE = ("this API answers only its own page and programs such as curl: requests "
              "from other web sites are refused")


def check_same_origin(request):
    """BadRequest (403) if the browser says `request` comes from another site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in ALLOWED_FETCH_SITES:
        raise BadRequest(CROSS_SITE, 403)
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower() != f"{request.scheme}://{request.host}".lower():
        raise BadRequest(CROSS_SITE, 403)


def check_image_type(request):
    """BadRequest (415) unless `request` says it carries an image (`image/...`) or raw bytes."""
    mimetype = request.mimetype
    if mimetype.startswith("image/") or mimetype == "application/octet-stream":
        return
    if mimetype in FORM_TYPES:
        raise BadRequest("send the image file itself as the request body (curl --data-binary @digit.png), "
                         "not as a form", 415)
    raise BadRequest(f"send the image with its type, such as Content-Type: image/png "
                     f"(got {mimetype or 'no Content-Type'})", 415)
