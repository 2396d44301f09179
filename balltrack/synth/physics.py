"""Ball and player motion of one tennis rally, in world metres and clip seconds.

The ball flies under gravity and quadratic air drag, bounces on the court (restitution and
friction of the surface) and is hit by the players: a serve from a toss, then drives and
the odd lob (high enough to leave the top of the frame) aimed at random targets, until the
time budget runs out and the last shot is a winner. Players run to where they will meet
the ball. Events (``rally_start``, ``hit``, ``bounce``, ``rally_end``) carry exact times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from balltrack.synth.camera import COURT_HALF_LENGTH_M

GRAVITY_M_S2 = 9.81
BALL_RADIUS_M = 0.033
DRAG_PER_M = 0.02  # 0.5 * rho * Cd * A / m for a tennis ball
STEP_S = 0.0025
NET_CLEAR_M = 1.05
SINGLES_X_M = 3.9  # targets stay inside the singles court


@dataclass(frozen=True)
class Surface:
    name: str
    restitution: float  # vertical speed kept at a bounce
    friction: float  # horizontal speed kept at a bounce


SURFACES = {
    "hard": Surface("hard", 0.76, 0.72),
    "clay": Surface("clay", 0.80, 0.62),
    "grass": Surface("grass", 0.68, 0.80),
}


@dataclass
class Rally:
    """Sampled ball path (``t_s`` increasing, ``pos_m`` ``(N, 3)``), events and player plans."""

    t_s: np.ndarray
    pos_m: np.ndarray
    events: list[tuple[float, str]]
    waypoints: dict[int, list[tuple[float, float, float]]]  # side (-1 near, +1 far) -> (t, x, y)
    swings: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # side -> (t, ball x - player x)

    def ball_at(self, t_s: np.ndarray) -> np.ndarray:
        """Ball centre ``(len(t), 3)`` at clip times ``t_s`` (held at the ends)."""
        t = np.asarray(t_s, dtype=np.float64)
        return np.stack([np.interp(t, self.t_s, self.pos_m[:, k]) for k in range(3)], axis=-1)

    def player_at(self, side: int, t_s: np.ndarray) -> np.ndarray:
        """Player ground position ``(len(t), 2)``: smoothstep between waypoints."""
        wp = np.array(self.waypoints[side], dtype=np.float64)  # (n, 3): t, x, y; sorted by t
        t = np.clip(np.asarray(t_s, dtype=np.float64), wp[0, 0], wp[-1, 0])
        if len(wp) == 1:
            return np.repeat(wp[:1, 1:], len(t), axis=0)
        k = np.clip(np.searchsorted(wp[:, 0], t, side="right") - 1, 0, len(wp) - 2)
        span = np.maximum(wp[k + 1, 0] - wp[k, 0], 1e-9)
        s = np.clip((t - wp[k, 0]) / span, 0, 1)
        s = s * s * (3 - 2 * s)
        return wp[k, 1:] + s[:, None] * (wp[k + 1, 1:] - wp[k, 1:])


def fly(p0, v0, t0: float, t_max: float, surface: Surface, stop=None):
    """Integrate the ball from ``p0, v0`` at ``t0`` until ``stop(p, v, n_bounces)`` or ``t_max``.

    Returns ``(times, positions, velocity at the end, bounce times, stopped)``; each bounce
    is sampled at its exact contact time so interpolation keeps the corner.
    """
    x, y, z = p0
    vx, vy, vz = v0
    t = t0
    ts, ps, bounces = [t], [(x, y, z)], []
    rolling = False
    while t < t_max - 1e-12:
        dt = min(STEP_S, t_max - t)
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        vx -= DRAG_PER_M * speed * vx * dt
        vy -= DRAG_PER_M * speed * vy * dt
        if rolling:
            hs = math.hypot(vx, vy)
            keep = max(0.0, hs - 0.6 * dt) / hs if hs > 0 else 0.0
            vx, vy = vx * keep, vy * keep
            nx, ny, nz = x + vx * dt, y + vy * dt, BALL_RADIUS_M
        else:
            vz -= (GRAVITY_M_S2 + DRAG_PER_M * speed * vz) * dt
            nx, ny, nz = x + vx * dt, y + vy * dt, z + vz * dt
        if nz < BALL_RADIUS_M and not rolling:
            frac = (z - BALL_RADIUS_M) / (z - nz)
            tb = t + frac * dt
            bx, by = x + frac * (nx - x), y + frac * (ny - y)
            ts.append(tb)
            ps.append((bx, by, BALL_RADIUS_M))
            bounces.append(tb)
            vz = -vz * surface.restitution
            vx, vy = vx * surface.friction, vy * surface.friction
            if vz < 0.5:
                rolling, vz = True, 0.0
            rest = (1 - frac) * dt
            nx, ny, nz = bx + vx * rest, by + vy * rest, BALL_RADIUS_M + vz * rest
        x, y, z, t = nx, ny, nz, t + dt
        ts.append(t)
        ps.append((x, y, z))
        if stop is not None and stop((x, y, z), (vx, vy, vz), len(bounces)):
            return ts, ps, (vx, vy, vz), bounces, True
    return ts, ps, (vx, vy, vz), bounces, False


def _first_bounce(p0, v0, surface: Surface):
    ts, ps, _, bounces, _ = fly(p0, v0, 0.0, 6.0, surface, stop=lambda p, v, n: n >= 1)
    crossing = next((ps[i][2] for i in range(1, len(ps)) if (ps[i - 1][1] - 0) * (ps[i][1] - 0) <= 0), None)
    return ps[-1], crossing


def aim(p0, target_xy, flight_s: float, surface: Surface):
    """Initial velocity from ``p0`` that lands on ``target_xy`` despite drag, clearing the net."""
    p0 = np.asarray(p0, dtype=np.float64)
    target = np.asarray(target_xy, dtype=np.float64)
    for _ in range(6):  # lengthen the flight until the ball clears the net
        point = target.copy()
        for _ in range(6):  # shoot: move the drag-free aim point by the landing error
            v = _drag_free(p0, point, flight_s)
            land, net_z = _first_bounce(p0, v, surface)
            err = target - np.array(land[:2])
            if np.hypot(*err) < 0.05:
                break
            point = point + err
        if net_z is None or net_z >= NET_CLEAR_M:
            return v
        flight_s *= 1.12
    return v


def _drag_free(p0: np.ndarray, point: np.ndarray, flight_s: float) -> tuple[float, float, float]:
    vx, vy = (point - p0[:2]) / flight_s
    vz = (BALL_RADIUS_M - p0[2] + 0.5 * GRAVITY_M_S2 * flight_s**2) / flight_s
    return float(vx), float(vy), float(vz)


def _toss(rng: np.random.Generator, hand: np.ndarray, server: int, t_start: float, t_end: float):
    """Ball held at ``hand`` from ``t_start``, then tossed and struck at ~2.6 m.

    Returns sample lists ``(times, positions)``: the second time is the toss, the last the serve.
    """
    t_toss = t_start + min(rng.uniform(0.15, 0.5), max(0.0, (t_end - t_start) * 0.2))
    vz_toss = rng.uniform(5.2, 5.9)
    toss_from = hand + [0.0, -server * 0.15, 0.3]
    z_hit = rng.uniform(2.45, 2.7)
    rise = vz_toss**2 - 2 * GRAVITY_M_S2 * (z_hit - toss_from[2])
    toss_s = (vz_toss + math.sqrt(max(rise, 0.0))) / GRAVITY_M_S2  # the way down through z_hit
    tt = np.linspace(0.0, toss_s, 24)
    z = toss_from[2] + vz_toss * tt - 0.5 * GRAVITY_M_S2 * tt**2
    toss = np.stack([np.full_like(tt, toss_from[0]), np.full_like(tt, toss_from[1]), z], axis=-1)
    return [t_start, t_toss, *(t_toss + tt[1:])], [tuple(hand), tuple(toss_from), *map(tuple, toss[1:])]


def simulate_rally(rng: np.random.Generator, t_start: float, t_end: float, surface: Surface) -> Rally:
    """One rally inside a main shot ``[t_start, t_end)`` seconds of the clip.

    The serve toss starts shortly after ``t_start``; shots go on while the next contact is
    at least ~1 s before the end of the shot, so the last bounce and the point's end are seen.
    """
    budget = t_end - rng.uniform(0.9, 1.3)
    server = int(rng.choice([-1, 1]))
    receiver = -server
    serve_x = float(rng.choice([-1, 1]) * rng.uniform(0.3, 1.0))
    sx, sy = serve_x, server * rng.uniform(12.0, 12.4)
    waypoints = {server: [(t_start, sx, sy)], receiver: [(t_start, -serve_x * 2.5, receiver * rng.uniform(11.8, 12.8))]}
    swings: dict[int, list[tuple[float, float]]] = {server: [], receiver: []}
    events: list[tuple[float, str]] = []

    t_list, p_list = _toss(rng, np.array([sx + 0.35, sy, 1.0]), server, t_start, t_end)
    events.append((t_list[1], "rally_start"))
    t_hit, p_hit = t_list[-1], np.array(p_list[-1])
    events.append((t_hit, "hit"))
    swings[server].append((t_hit, 0.35))
    waypoints[server].append((t_hit, sx, sy))

    target = (-np.sign(serve_x) * rng.uniform(0.6, 3.6), receiver * rng.uniform(4.0, 6.1))
    v = aim(p_hit, target, rng.uniform(0.42, 0.58), surface)
    hitter, shots, max_shots = server, 1, int(rng.integers(3, 12))
    while True:
        receiver = -hitter
        reach_h = rng.uniform(0.7, 1.15)

        def contact(p, vel, n, h=reach_h):  # the receiver meets the ball after its bounce
            return n >= 1 and ((vel[2] < 0 and p[2] <= h) or abs(p[1]) >= COURT_HALF_LENGTH_M + 1.8 or n >= 2)

        ts, ps, v_end, bounces, hit = fly(p_hit, v, t_hit, t_hit + 5.0, surface, stop=contact)
        final = (not hit) or ts[-1] > budget or shots >= max_shots
        if final:
            ts, ps, v_end, bounces, _ = fly(p_hit, v, t_hit, max(t_end, t_hit + 0.1), surface)
            t_list.extend(ts[1:])
            p_list.extend(ps[1:])
            events.extend((tb, "bounce") for tb in bounces)
            if bounces and bounces[0] < t_end:
                events.append((min(bounces[0] + 0.35, t_end - 0.05), "rally_end"))
            # The receiver lunges but does not get there.
            k = min(len(ps) - 1, int(0.8 * len(ps)))
            rx, ry = waypoints[receiver][-1][1:]
            gx, gy = ps[k][0], ps[k][1]
            waypoints[receiver].append((ts[k], rx + 0.5 * (gx - rx), ry + 0.3 * (gy - ry)))
            break
        t_list.extend(ts[1:])
        p_list.extend(ps[1:])
        events.extend((tb, "bounce") for tb in bounces)
        t_hit, p_hit = ts[-1], np.array(ps[-1])
        events.append((t_hit, "hit"))
        body = float(np.sign(p_hit[0] - waypoints[receiver][-1][1]) or 1.0) * rng.uniform(0.5, 0.75)
        waypoints[receiver].append((t_hit, float(p_hit[0] - body), float(p_hit[1] - receiver * 0.2)))
        swings[receiver].append((t_hit, body))
        # The hitter of the last shot recovers toward the middle of its baseline.
        last_t = waypoints[hitter][-1][0]
        recover_t = max(last_t, t_hit - rng.uniform(0.0, 0.4))
        if recover_t > last_t + 0.3:
            waypoints[hitter].append((recover_t, rng.uniform(-1.2, 1.2), hitter * rng.uniform(11.8, 12.8)))
        # The receiver now hits back toward the side of the last hitter.
        lob_flight = rng.uniform(2.6, 3.2)  # apex ~8-10 m: above the top of the frame
        lob = rng.random() < 0.6 and t_hit + lob_flight + 0.4 < t_end  # it must come down before the cut
        depth_m = rng.uniform(8.5, 11.0) if lob else rng.uniform(6.5, 11.0)
        target = (rng.uniform(-SINGLES_X_M, SINGLES_X_M), hitter * depth_m)
        flight = lob_flight if lob else rng.uniform(0.85, 1.35)
        v = aim(p_hit, target, flight, surface)
        hitter, shots = receiver, shots + 1

    for side in (-1, 1):
        waypoints[side].append((max(t_end, waypoints[side][-1][0]) + 1.0, *waypoints[side][-1][1:]))
    order = np.argsort(np.asarray(t_list), kind="stable")
    t_arr = np.asarray(t_list)[order]
    p_arr = np.asarray(p_list, dtype=np.float64)[order]
    keep = np.concatenate([[True], np.diff(t_arr) > 1e-9])
    events = sorted((float(t), kind) for t, kind in events if t_start <= t < t_end)
    return Rally(t_arr[keep], p_arr[keep], events, waypoints, swings)
