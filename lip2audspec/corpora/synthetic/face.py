"""Rendered frontal talking faces (OpenCV primitives + numpy), GRID framing: 360x288, face centred.

:class:`FaceParams` describes a speaker's appearance. :class:`FaceRenderer` draws the static parts
(background, shoulders, hair, face with shading, eyes, brows, nose, beard, glasses) once, then per frame
only the mouth (outer lips, dark opening, teeth, tongue, moustache) and eyelids, applies the head's
similarity transform, lighting, blur and sensor noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ...config import Config
from ...errors import ParameterError

__all__ = ["WIDTH", "HEIGHT", "FaceParams", "random_face", "FaceRenderer", "MOUTH_COLUMNS"]

WIDTH, HEIGHT = 360, 288
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_S = 1 << _SHIFT

#: Columns of the per-frame mouth geometry returned by :meth:`FaceRenderer.render_frame`.
MOUTH_COLUMNS = ("mouth_cx", "mouth_cy", "mouth_width_px", "mouth_open_px", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")

_SKIN = [(190, 212, 240), (170, 200, 236), (150, 186, 226), (120, 160, 205), (100, 140, 190), (80, 115, 160),
         (66, 92, 132), (58, 80, 118)]  # BGR, light .. dark
_HAIR = [(20, 20, 25), (25, 35, 50), (30, 55, 90), (70, 120, 175), (140, 140, 140), (35, 50, 120), (190, 190, 195)]
_IRIS = [(60, 80, 110), (40, 50, 70), (130, 110, 60), (90, 120, 80), (120, 100, 80)]
_BG = [(170, 150, 125), (160, 160, 160), (185, 165, 140), (140, 130, 120), (175, 170, 150), (150, 140, 110)]
_SHIRT = [(90, 40, 30), (40, 40, 40), (200, 200, 200), (40, 90, 40), (50, 50, 140), (120, 100, 80), (30, 60, 110)]


@dataclass(frozen=True)
class FaceParams(Config):
    """Appearance of one synthetic speaker (pixel sizes in the 360x288 frame before head motion).

    Colours are BGR tuples of ints 0..255.
    """

    face_cx: float = 180.0
    face_cy: float = 143.0
    face_hw: float = 66.0        # half width of the face oval (cheekbones)
    face_hh: float = 86.0        # half height (forehead .. chin)
    jaw_taper: float = 0.18      # narrowing towards the chin, 0..0.4
    eye_dx: float = 0.38         # eye distance from the midline, fraction of face_hw
    eye_y: float = -0.08         # eye height, fraction of face_hh from face_cy
    eye_size: float = 10.0       # half width of the eye opening
    nose_y: float = 0.30
    mouth_y: float = 0.57
    mouth_hw: float = 22.0       # half width of the mouth at rest
    lip_upper: float = 4.5       # upper-lip thickness
    lip_lower: float = 6.0
    max_open: float = 20.0       # inner mouth height at jaw = 1
    skin: tuple = (150, 186, 226)
    lip: tuple = (95, 100, 185)
    hair: tuple = (25, 35, 50)
    iris: tuple = (60, 80, 110)
    background: tuple = (170, 150, 125)
    shirt: tuple = (90, 40, 30)
    hair_style: str = "short"    # short | long | bald | curly
    beard: bool = False
    moustache: bool = False
    glasses: bool = False
    articulation: float = 1.0    # jaw-opening scale of the speaker

    def __post_init__(self):
        for name in ("face_hw", "face_hh", "eye_size", "mouth_hw", "lip_upper", "lip_lower", "max_open", "articulation"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0:
                raise ParameterError(f"FaceParams.{name} must be a positive number, got {v!r}")
        if not 0 <= self.jaw_taper <= 0.4:
            raise ParameterError(f"FaceParams.jaw_taper must be in [0, 0.4], got {self.jaw_taper!r}")
        for name in ("skin", "lip", "hair", "iris", "background", "shirt"):
            c = getattr(self, name)
            if len(c) != 3 or not all(0 <= int(v) <= 255 for v in c):
                raise ParameterError(f"FaceParams.{name} must be a BGR triple of 0..255, got {c!r}")
            object.__setattr__(self, name, tuple(int(v) for v in c))  # lists (from JSON) -> tuples
        if self.hair_style not in ("short", "long", "bald", "curly"):
            raise ParameterError(f"FaceParams.hair_style must be short, long, bald or curly, got {self.hair_style!r}")



def _jitter(rng, c, amount):
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in c)


def random_face(rng: np.random.Generator, *, sex: str) -> FaceParams:
    """Draw a speaker appearance; ``sex`` ('male' or 'female') steers size, hair and facial hair."""
    if sex not in ("male", "female"):
        raise ParameterError(f"sex must be 'male' or 'female', got {sex!r}")
    male = sex == "male"
    skin = _jitter(rng, _SKIN[int(rng.integers(len(_SKIN)))], 8)
    lip = tuple(int(np.clip(v, 0, 255)) for v in (skin[0] * 0.7, skin[1] * 0.66, skin[2] * 0.86 + 8))
    if not male:
        lip = _jitter(rng, (lip[0] - 8, lip[1] - 12, min(255, lip[2] + 12)), 5)
    hair = _HAIR[int(rng.integers(len(_HAIR) - (0 if male else 1)))]
    style = rng.choice(["short", "short", "bald", "curly"]) if male else rng.choice(["long", "long", "curly", "short"])
    facial = rng.random()
    return FaceParams(
        face_cx=float(rng.uniform(174, 186)),
        face_cy=float(rng.uniform(136, 148)),
        face_hw=float(rng.uniform(63, 72) if male else rng.uniform(59, 66)),
        face_hh=float(rng.uniform(84, 92) if male else rng.uniform(78, 86)),
        jaw_taper=float(rng.uniform(0.08, 0.2) if male else rng.uniform(0.18, 0.3)),
        eye_dx=float(rng.uniform(0.34, 0.41)),
        eye_y=float(rng.uniform(-0.12, -0.04)),
        eye_size=float(rng.uniform(9.0, 11.5)),
        nose_y=float(rng.uniform(0.27, 0.33)),
        mouth_y=float(rng.uniform(0.55, 0.6)),
        mouth_hw=float(rng.uniform(20, 25) if male else rng.uniform(18, 22)),
        lip_upper=float(rng.uniform(3.5, 5.5)),
        lip_lower=float(rng.uniform(5.0, 7.5)),
        max_open=float(rng.uniform(17, 22)),
        skin=skin,
        lip=lip,
        hair=_jitter(rng, hair, 6),
        iris=_IRIS[int(rng.integers(len(_IRIS)))],
        background=_jitter(rng, _BG[int(rng.integers(len(_BG)))], 10),
        shirt=_SHIRT[int(rng.integers(len(_SHIRT)))],
        hair_style=str(style),
        beard=bool(male and facial < 0.3),
        moustache=bool(male and facial < 0.5),
        glasses=bool(rng.random() < 0.3),
        articulation=float(rng.uniform(0.85, 1.15)),
    )


def _pts(xy) -> np.ndarray:
    return np.round(np.asarray(xy) * _S).astype(np.int32).reshape(-1, 1, 2)


def _fill(img, xy, color, aa=True):
    cv2.fillPoly(img, [_pts(xy)], color, cv2.LINE_AA if aa else cv2.LINE_8, _SHIFT)


def _line(img, xy, color, thickness, closed=False):
    cv2.polylines(img, [_pts(xy)], closed, color, thickness, cv2.LINE_AA, _SHIFT)


def _ellipse_pts(cx, cy, ax, ay, n=48, t0=0.0, t1=2 * math.pi):
    t = np.linspace(t0, t1, n)
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)


def _shade(c, f):
    return tuple(int(np.clip(v * f, 0, 255)) for v in c)


class FaceRenderer:
    """Render frames of one speaker.

    Parameters
    ----------
    face : FaceParams
    """

    def __init__(self, face: FaceParams):
        if not isinstance(face, FaceParams):
            raise ParameterError(f"face must be FaceParams, got {type(face).__name__}")
        self.face = face
        f = face
        self.mouth_c = (f.face_cx, f.face_cy + f.mouth_y * f.face_hh)
        self.eyes = [(f.face_cx + s * f.eye_dx * f.face_hw, f.face_cy + f.eye_y * f.face_hh) for s in (-1, 1)]
        self.base = self._static()
        # skin colour near the eyes (after shading) for eyelids
        ex, ey = self.eyes[0]
        self.lid_color = tuple(int(v) for v in self.base[int(ey - f.eye_size * 0.9), int(ex)])
        mx, my = self.mouth_c
        self.skin_mouth = tuple(int(v) for v in self.base[int(my + f.lip_lower + f.max_open + 4), int(mx + f.mouth_hw + 6)])

    # ------------------------------------------------------------------ static layer
    def _face_outline(self, n=96):
        f = self.face
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        y = -np.cos(t)  # -1 top .. 1 chin
        taper = 1 - f.jaw_taper * np.clip(y, 0, 1) ** 1.6
        x = np.sin(t) * taper
        yy = np.where(y > 0, y * (1 + 0.04 * y), y)
        return np.stack([f.face_cx + f.face_hw * x, f.face_cy + f.face_hh * yy], axis=1)

    def _static(self) -> np.ndarray:
        f = self.face
        H, W = HEIGHT, WIDTH
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        bg = np.array(f.background, np.float32)
        grad = (1.08 - 0.16 * yy / H)[..., None] * (1.0 - 0.06 * ((xx - W / 2) / (W / 2)) ** 2)[..., None]
        img = np.clip(bg * grad, 0, 255).astype(np.uint8)
        cx, cy, hw, hh = f.face_cx, f.face_cy, f.face_hw, f.face_hh
        skin_dark = _shade(f.skin, 0.8)
        # long hair behind the head
        if f.hair_style == "long":
            _fill(img, np.vstack([_ellipse_pts(cx, cy - 5, hw * 1.32, hh * 1.15, 60, math.pi, 2 * math.pi),
                                  [[cx + hw * 1.38, cy + hh * 1.05], [cx - hw * 1.38, cy + hh * 1.05]]]), f.hair)
        # shoulders and neck
        _fill(img, _ellipse_pts(cx, cy + hh * 1.95, hw * 2.4, hh * 0.95, 64), f.shirt)
        neck = np.array([[cx - hw * 0.5, cy + hh * 0.6], [cx + hw * 0.5, cy + hh * 0.6], [cx + hw * 0.55, cy + hh * 1.25],
                         [cx, cy + hh * 1.4], [cx - hw * 0.55, cy + hh * 1.25]])
        _fill(img, neck, skin_dark)
        _fill(img, _ellipse_pts(cx, cy + hh * 1.18, hw * 0.56, hh * 0.2, 32, 0, math.pi), _shade(f.skin, 0.7))
        # ears
        for s in (-1, 1):
            _fill(img, _ellipse_pts(cx + s * hw * 0.98, cy + hh * 0.02, hw * 0.13, hh * 0.2, 32), _shade(f.skin, 0.88))
        face_mask = np.zeros((H, W), np.uint8)
        outline = self._face_outline()
        _fill(face_mask, outline, 255)
        _fill(img, outline, f.skin)
        # shading: darker towards the rim, light from the upper left
        r2 = ((xx - cx) / hw) ** 2 + ((yy - cy - hh * 0.05) / hh) ** 2
        light = 1.06 - 0.32 * np.clip(r2, 0, 1.2) ** 2 - 0.06 * (xx - cx) / hw
        # beard (static: chin and jaw)
        if f.beard:
            bmask = np.zeros((H, W), np.uint8)
            my = cy + f.mouth_y * hh
            pts = np.vstack([outline[(outline[:, 1] > cy + hh * 0.28)], [[cx, my + hh * 0.1]]])
            cv2.fillPoly(bmask, [_pts(pts[np.argsort(np.arctan2(pts[:, 1] - (cy + hh * 0.3), pts[:, 0] - cx))])], 255, cv2.LINE_AA, _SHIFT)
            cv2.ellipse(bmask, (int(cx), int(my + f.lip_lower)), (int(f.mouth_hw * 1.05), int(f.lip_lower + 6)), 0, 0, 360, 0, -1, cv2.LINE_AA)
            bmask = cv2.GaussianBlur(bmask, (0, 0), 2.0).astype(np.float32) / 255
            tex = np.random.default_rng(int(sum(f.hair) * 7 + hw * 100)).normal(0, 0.5, (H, W)).astype(np.float32)
            tex = cv2.GaussianBlur(tex, (0, 0), 0.8)
            beard_a = np.clip(bmask * (0.75 + tex), 0, 0.95)[..., None]
            img = (img * (1 - beard_a) + np.array(f.hair, np.float32) * beard_a).astype(np.uint8)
        shade_map = np.where(face_mask[..., None] > 0, light[..., None], 1.0).astype(np.float32)
        shade_map = cv2.GaussianBlur(shade_map, (0, 0), 3.0)[..., None]
        img = np.clip(img * shade_map, 0, 255).astype(np.uint8)
        # hair on top
        self._hair(img)
        # eyebrows
        for s, (ex, ey) in zip((-1, 1), self.eyes):
            xs = np.linspace(-1.15, 1.1, 12) * f.eye_size * 1.25
            top = ey - f.eye_size * 1.25 - 4 * (1 - (xs / (f.eye_size * 1.4)) ** 2) + 1.5 * s * xs / f.eye_size
            brow = np.vstack([np.stack([ex + s * xs, top], 1), np.stack([ex + s * xs[::-1], top[::-1] + 3.2 - 0.8 * np.abs(xs[::-1]) / f.eye_size], 1)])
            dark = min(_shade(f.hair, 0.6), _shade(f.skin, 0.4), key=sum)
            _fill(img, brow, _shade(dark, 0.8))
        # eyes
        for ex, ey in self.eyes:
            es = f.eye_size
            sock = np.zeros((H, W), np.uint8)
            cv2.ellipse(sock, (int(ex), int(ey - 2)), (int(es * 1.4), int(es * 0.95)), 0, 0, 360, 255, -1)
            a = (cv2.GaussianBlur(sock, (0, 0), 3.0).astype(np.float32) / 255 * 0.32)[..., None]
            img = (img * (1 - a)).astype(np.uint8)  # socket shadow
            upper = np.stack([np.linspace(-es, es, 20), -np.sin(np.linspace(0, math.pi, 20)) * es * 0.55], 1)
            lower = np.stack([np.linspace(es, -es, 20), np.sin(np.linspace(0, math.pi, 20)) * es * 0.4], 1)
            eye = np.vstack([upper, lower]) + [ex, ey]
            sclera = tuple(int(0.55 * w + 0.45 * c) for w, c in zip((215, 220, 225), f.skin))
            _fill(img, eye, sclera)
            cv2.circle(img, (int(ex * _S), int(ey * _S)), int(es * 0.46 * _S), f.iris, -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, (int(ex * _S), int(ey * _S)), int(es * 0.22 * _S), (15, 15, 15), -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, (int((ex + 1.5) * _S), int((ey - 1.5) * _S)), int(1.2 * _S), (245, 245, 245), -1, cv2.LINE_AA, _SHIFT)
            _line(img, upper + [ex, ey], (20, 20, 25), 3)
            _line(img, lower[3:-3] + [ex, ey], _shade(f.skin, 0.65), 1)
        # nose (bridge highlight between the eyes)
        ny = cy + f.nose_y * hh
        hi_m = np.zeros((H, W), np.uint8)
        cv2.ellipse(hi_m, (int(cx), int((cy + ny) / 2 - 4)), (6, int((ny - cy) / 2 + 8)), 0, 0, 360, 255, -1)
        a = (cv2.GaussianBlur(hi_m, (0, 0), 3.0).astype(np.float32) / 255 * 0.18)[..., None]
        img = np.clip(img * (1 + a), 0, 255).astype(np.uint8)
        for s in (-1, 1):
            _line(img, [[cx + s * 5, cy - hh * 0.02], [cx + s * 6, ny - 10], [cx + s * 9, ny - 2]], _shade(f.skin, 0.82), 2)
            cv2.ellipse(img, (int((cx + s * 6) * _S), int(ny * _S)), (int(3.2 * _S), int(1.9 * _S)), s * 15, 0, 360, _shade(f.skin, 0.38), -1, cv2.LINE_AA, _SHIFT)
        _line(img, _ellipse_pts(cx, ny - 1, 11, 5, 20, 0.15 * math.pi, 0.85 * math.pi), _shade(f.skin, 0.72), 2)
        cv2.ellipse(img, (int(cx * _S), int((ny - 5) * _S)), (int(5 * _S), int(4 * _S)), 0, 0, 360, _shade(f.skin, 1.08), -1, cv2.LINE_AA, _SHIFT)
        # philtrum and chin crease
        my = self.mouth_c[1]
        for s in (-1, 1):
            _line(img, [[cx + s * 3, ny + 4], [cx + s * 4, my - f.lip_upper - 2]], _shade(f.skin, 0.9), 1)
        # glasses
        if f.glasses:
            for ex, ey in self.eyes:
                cv2.ellipse(img, (int(ex * _S), int((ey - 1) * _S)), (int(f.eye_size * 1.75 * _S), int(f.eye_size * 1.2 * _S)), 0, 0, 360,
                            (30, 30, 35), 2, cv2.LINE_AA, _SHIFT)
            (lx, ly), (rx, _) = self.eyes
            _line(img, [[lx + f.eye_size * 1.75, ly - 2], [cx, ly - 5], [rx - f.eye_size * 1.75, ly - 2]], (30, 30, 35), 2)
            for s, ex in ((-1, lx), (1, rx)):
                _line(img, [[ex + s * f.eye_size * 1.75, ly - 2], [cx + s * hw * 0.97, ly - 3]], (30, 30, 35), 2)
        return img

    def _hair(self, img):
        f = self.face
        cx, cy, hw, hh = f.face_cx, f.face_cy, f.face_hw, f.face_hh
        if f.hair_style == "bald":
            _fill(img, np.vstack([_ellipse_pts(cx, cy - hh * 0.05, hw * 1.02, hh * 0.98, 40, math.pi * 0.98, math.pi * 1.22),
                                  [[cx - hw * 0.93, cy - hh * 0.1]]]), f.hair)
            _fill(img, np.vstack([_ellipse_pts(cx, cy - hh * 0.05, hw * 1.02, hh * 0.98, 40, math.pi * 1.78, math.pi * 2.02),
                                  [[cx + hw * 0.93, cy - hh * 0.1]]]), f.hair)
            return
        bulk = 1.12 if f.hair_style == "curly" else 1.05
        top = _ellipse_pts(cx, cy - hh * 0.1, hw * bulk, hh * 0.98 * bulk, 60, math.pi, 2 * math.pi)
        xs = np.linspace(cx + hw * 1.0, cx - hw * 1.0, 30)
        u = (xs - cx) / hw
        fringe_y = cy - hh * (0.5 - 0.12 * u ** 2) + (hh * 0.08 * np.sin(u * 3.0) if f.hair_style == "long" else 0)
        side = cy - hh * (0.05 if f.hair_style == "long" else 0.2)
        poly = np.vstack([[[cx - hw * bulk, side]], top, [[cx + hw * bulk, side]], [[cx + hw * 0.95, side]],
                          np.stack([xs, fringe_y], 1), [[cx - hw * 0.95, side]]])
        _fill(img, poly, f.hair)
        if f.hair_style == "curly":
            rng = np.random.default_rng(int(hw * 1000))
            for _ in range(70):
                a = rng.uniform(math.pi * 0.95, math.pi * 2.05)
                r = rng.uniform(0.9, 1.12)
                x, y = cx + hw * bulk * r * math.cos(a), cy - hh * 0.1 + hh * bulk * r * math.sin(a)
                if y < cy - hh * 0.05:
                    cv2.circle(img, (int(x * _S), int(y * _S)), int(rng.uniform(4, 8) * _S), _shade(f.hair, rng.uniform(0.8, 1.3)), -1, cv2.LINE_AA, _SHIFT)
        # strands / sheen
        for k in range(6):
            a0 = math.pi * (1.15 + 0.12 * k)
            _line(img, _ellipse_pts(cx, cy - hh * 0.1, hw * bulk * 0.9, hh * 0.9 * bulk, 10, a0, a0 + 0.25), _shade(f.hair, 1.35), 1)

    # ------------------------------------------------------------------ dynamic layer
    def mouth_shape(self, params) -> dict:
        """Lip contours for mouth parameters ``(jaw, spread, round, teeth, tongue)`` (canonical pixels).

        The lip aperture follows ``jaw`` (lips meet below 0.6 px); the teeth and the tongue tip have their
        own sizes in pixels (a fraction of the mouth width), cut only by the aperture, so they show at the
        small openings of f/v (upper teeth on the lower lip), s/z (both rows, a thin gap), th (tongue tip
        between the teeth) and t/d/n/l (tongue tip under the upper teeth when the jaw is open enough).

        Returns a dict with ``outer`` (closed polygon, shape (m, 2)), ``inner`` (opening polygon or None),
        ``teeth`` (upper teeth polygon or None), ``lower_teeth``, ``tongue`` (body ellipse
        ``(cx, cy, ax, ay)`` or None), ``tongue_tip`` (ellipse or None, with ``tip_front`` True when it lies
        in front of the teeth), ``teeth_px``/``lower_teeth_px``/``tip_px`` (visible heights at the
        centre), ``width`` and ``open`` in pixels.
        """
        f = self.face
        jaw, spread, rnd, teeth, tongue = (float(v) for v in params)
        mx, my = self.mouth_c
        w = f.mouth_hw * (1 + 0.16 * spread - 0.3 * rnd)
        op = max(jaw, 0.0) * f.max_open * (1 - 0.15 * rnd)
        w_in = w * (0.86 - 0.3 * rnd)
        n = 25
        x = np.linspace(-1.0, 1.0, n)
        p_in = 0.75 - 0.3 * rnd
        s_in = np.clip(1 - (x * w / w_in) ** 2, 0, 1) ** p_in
        thick = 1 + 0.35 * rnd
        up_t = f.lip_upper * thick * (1 - x ** 2) ** 0.45 * (1 - 0.22 * np.exp(-(x / 0.13) ** 2)) * (1 + 0.25 * np.exp(-((np.abs(x) - 0.25) / 0.15) ** 2))
        lo_t = f.lip_lower * thick * (1 - x ** 2) ** 0.55 * (1 - 0.25 * spread * 0.5)
        corner_lift = -1.0 * (1 + spread) * np.abs(x) ** 4  # slight smile at the corners
        y_ut = my - op * 0.3 * s_in + corner_lift
        y_lb = my + op * 0.7 * s_in + corner_lift
        y_uo = y_ut - up_t - 0.6
        y_lo = y_lb + lo_t
        xs = mx + x * w
        outer = np.vstack([np.stack([xs, y_uo], 1), np.stack([xs[::-1], y_lo[::-1]], 1)])
        upper = np.vstack([np.stack([xs, y_uo], 1), np.stack([xs[::-1], y_ut[::-1]], 1)])
        out = {"outer": outer, "upper": upper, "width": 2 * w, "open": op, "inner": None, "teeth": None, "lower_teeth": None,
               "tongue": None, "tongue_tip": None, "tip_front": False, "teeth_px": 0.0, "lower_teeth_px": 0.0, "tip_px": 0.0,
               "seam": np.stack([xs, y_ut], 1), "upper_top": y_uo.min()}
        if op < 0.6:
            return out
        out["inner"] = np.vstack([np.stack([xs, y_ut], 1), np.stack([xs[::-1], y_lb[::-1]], 1)])
        full = 0.2 * f.mouth_hw  # full upper-teeth band (px), about 4-5 px
        up = min(max(teeth, 0.0), 0.85) / 0.85 * full
        lo = max(teeth - 0.85, 0.0) / 0.15 * 0.6 * full
        room = op - (0.8 if lo > 0 else 0.4)  # s/z keep a thin dark gap between the rows
        if up + lo > room:
            k = max(room, 0.0) / (up + lo)
            up, lo = up * k, lo * k
        c = n // 2
        if up > 0.3:
            tw = np.abs(x * w) < w_in * 0.8
            out["teeth"] = np.vstack([np.stack([xs[tw], y_ut[tw] - 2], 1), np.stack([xs[tw][::-1], y_ut[tw][::-1] + up], 1)])
            out["teeth_px"] = up
        if lo > 0.3:
            tw = np.abs(x * w) < w_in * 0.65
            out["lower_teeth"] = np.vstack([np.stack([xs[tw], y_lb[tw] - lo], 1), np.stack([xs[tw][::-1], y_lb[tw][::-1] + 2], 1)])
            out["lower_teeth_px"] = lo
        tb = 0.12 * op + min(tongue, 0.3) * op * 0.45
        out["tongue"] = (mx, my + op * 0.7 - tb * 0.3, w_in * 0.55, tb)
        if tongue > 0.3:
            front = tongue > 0.8  # th: the tip lies between the teeth, over their edge
            tip = tongue * 0.16 * f.mouth_hw
            top = y_ut[c] + up - (min(1.5, up) if front else 0.0)
            room = y_lb[c] - top - (0.0 if front else 0.6)
            tip = min(tip, max(room, 0.0))
            if tip > 0.4:
                out["tongue_tip"] = (mx, top + tip / 2, w_in * 0.38, tip / 2)
                out["tip_front"] = front
                out["tip_px"] = tip
        return out

    def draw_mouth(self, img, params) -> dict:
        """Draw the mouth for ``params`` into ``img`` (canonical frame, in place); returns :meth:`mouth_shape`."""
        f = self.face
        sh = self.mouth_shape(params)
        mx, my = self.mouth_c
        # mouth region: restore skin ring around the lips (lower lip moves over the chin)
        _fill(img, sh["outer"], f.lip)
        if sh["inner"] is not None:
            x0 = int(mx - f.mouth_hw * 1.3)
            y0 = int(my - f.max_open - 8)
            x1 = int(mx + f.mouth_hw * 1.3) + 1
            y1 = int(my + f.max_open + f.lip_lower * 2 + 8)
            roi = img[y0:y1, x0:x1]
            content = np.empty_like(roi)
            content[:] = (22, 14, 34)
            off = np.array([x0, y0])

            def ellipse(e, color):
                tx, ty, ta, tb = e
                cv2.ellipse(content, (int((tx - x0) * _S), int((ty - y0) * _S)), (int(ta * _S), int(max(tb, 0.5) * _S)), 0, 0, 360,
                            color, -1, cv2.LINE_AA, _SHIFT)

            if sh["tongue"] is not None and sh["tongue"][3] > 0.5:
                ellipse(sh["tongue"], (95, 90, 175))
            if sh["tongue_tip"] is not None and not sh["tip_front"]:
                ellipse(sh["tongue_tip"], (110, 105, 195))
            for key in ("teeth", "lower_teeth"):
                if sh[key] is not None:
                    _fill(content, sh[key] - off, (215, 225, 230))
            if sh["tongue_tip"] is not None and sh["tip_front"]:
                ellipse(sh["tongue_tip"], (115, 110, 200))
            mask = np.zeros(roi.shape[:2], np.uint8)
            _fill(mask, sh["inner"] - off, 255)
            a = (mask.astype(np.float32) / 255)[..., None]
            roi[:] = (roi * (1 - a) + content * a).astype(np.uint8)
        else:
            _line(img, sh["seam"], _shade(f.lip, 0.62), 1)
        # upper lip darker than the lower lip, highlight on the lower lip
        _line(img, sh["outer"][: len(sh["outer"]) // 2], _shade(f.lip, 0.8), 1)
        hl = sh["outer"][len(sh["outer"]) // 2:]
        k = len(hl)
        _line(img, hl[k // 3: 2 * k // 3] - [0, f.lip_lower * 0.45], _shade(f.lip, 1.18), 2)
        if f.moustache:
            xs = np.linspace(-1.1, 1.1, 20)
            top = sh["upper_top"] - 1.5
            ys = top - 0.5 * np.abs(xs) * 0 + 2.5 * xs ** 2
            poly = np.vstack([np.stack([mx + xs * f.mouth_hw * 1.05, ys], 1),
                              np.stack([mx + xs[::-1] * f.mouth_hw * 0.95, ys[::-1] - 6 + 1.5 * xs[::-1] ** 2], 1)])
            _fill(img, poly, _shade(f.hair, 0.9))
        return sh

    def draw_eyelids(self, img, blink: float):
        """Close the eyes by ``blink`` (0 open .. 1 closed), in place."""
        if blink <= 0.02:
            return
        f = self.face
        es = f.eye_size
        for ex, ey in self.eyes:
            t = np.linspace(0, math.pi, 20)
            xs = np.linspace(-es - 0.5, es + 0.5, 20)
            upper = -np.sin(t) * es * 0.58
            lower = np.sin(t) * es * 0.42
            lid_edge = upper + (lower - upper) * min(blink, 1.0)
            poly = np.vstack([np.stack([xs, upper - 1], 1), np.stack([xs[::-1], lid_edge[::-1]], 1)]) + [ex, ey]
            _fill(img, poly, self.lid_color)
            _line(img, np.stack([xs, lid_edge], 1) + [ex, ey], (25, 25, 30), 2)

    def render_frame(self, params, *, blink: float = 0.0, affine=None) -> tuple:
        """One frame (before lighting/noise).

        Parameters
        ----------
        params : array_like, shape (5,)
            ``(jaw, spread, round, teeth, tongue)``.
        blink : float
            0 (open) .. 1 (closed).
        affine : ndarray, shape (2, 3), optional
            Head similarity transform (canonical -> image).

        Returns
        -------
        img : ndarray, uint8, shape (288, 360, 3)
        geometry : ndarray, float64, shape (8,)
            :data:`MOUTH_COLUMNS`: mouth centre, width, opening (image pixels) and outer-lip bounding box.
        """
        img = self.base.copy()
        sh = self.draw_mouth(img, params)
        self.draw_eyelids(img, blink)
        pts = sh["outer"]
        if affine is not None:
            img = cv2.warpAffine(img, affine, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            pts = pts @ affine[:, :2].T + affine[:, 2]
            scale = float(np.hypot(*affine[:, 0]))
        else:
            scale = 1.0
        c = pts.mean(axis=0)
        geom = np.array([c[0], c[1], sh["width"] * scale, sh["open"] * scale,
                         pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
        return img, geom
