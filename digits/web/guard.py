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

A server that listens on this machine only (127.0.0.1, the default) also refuses requests
addressed to any other name (the Host header): a site whose name is re-pointed at 127.0.0.1
("DNS rebinding") is the same origin as this server to the browser, and only the name it was
asked by gives it away.
"""
import ipaddress

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


def host_name(host):
    """The name or address in a Host header, without its port: "[::1]:8000" -> "::1"."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_name(name):
    """Whether `name` means this machine: localhost (or *.localhost) or a loopback address."""
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_local_host(request):
    """BadRequest (403) unless `request` is addressed to this machine by a loopback name."""
    if not is_loopback_name(host_name(request.host)):
        raise BadRequest("this server answers only requests addressed to this machine, such as "
                         "http://127.0.0.1 or http://localhost (it listens on no other address)", 403)
