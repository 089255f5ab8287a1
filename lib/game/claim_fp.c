/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim detection, per fix, on the clue's home owner: does this fix put its player at the clue,
 * under the layout's policy? docs/game.md gives the maths; this file is the hot path, so the
 * rules are applied from the cheapest test up:
 *
 *  1. d^2 > r^2, in integers (after a bounding box): outside the disc, no policy qualifies (for the probability policy
 *     because P < Phi((r - d) / sigma) < 0.5 <= threshold);
 *  2. the policy's closed-form test (distance, conservative), or for the probability policy two
 *     rigorous bounds computed at load: P <= Phi((r - d) / sigma) rejects, and
 *     P >= 1 - exp(-(r - d)^2 / 2 sigma^2) (the fix's own disc of radius r - d lies in the
 *     clue's) accepts;
 *  3. only between the bounds, a band about 0.9 sigma wide for threshold 0.9, P itself.
 *
 * Nothing here allocates, locks, logs or makes a syscall; libm's exp, expm1 and sqrt are pure.
 */
#include <math.h>

#include "fc_game.h"

/* Gauss-Legendre, 20 nodes on [-1, 1]: the positive half (nodes, weights), from mpmath. */
static const double gl20[10][2] = {
	{ 7.65265211334973337546e-2, 1.52753387130725850698e-1 },
	{ 2.2778585114164507808e-1, 1.49172986472603746788e-1 },
	{ 3.73706088715419560673e-1, 1.42096109318382051329e-1 },
	{ 5.10867001950827098004e-1, 1.31688638449176626898e-1 },
	{ 6.36053680726515025453e-1, 1.18194531961518417312e-1 },
	{ 7.46331906460150792614e-1, 1.01930119817240435037e-1 },
	{ 8.39116971822218823395e-1, 8.32767415767047487248e-2 },
	{ 9.12234428251325905868e-1, 6.26720483341090635695e-2 },
	{ 9.63971927277913791268e-1, 4.0601429800386941331e-2 },
	{ 9.93128599185094924786e-1, 1.76140071391521183119e-2 },
};

/*
 * sqrt(2 pi z) e^-z I0(z) = sum_k c_k z^-k for large z: c_k = prod_{j<=k} (2j-1)^2 / (8j). The
 * values are exact binary fractions. Used only for z >= 15, where the first omitted term is
 * below 1e-9 relative, and for z >= 40 (where the integrand is not negligible) below 1e-13.
 */
static const double i0_asym[10] = {
	1.0,
	0.125,
	0.0703125,
	0.0732421875,
	0.112152099609375,
	0.22710800170898438,
	0.5725014209747314,
	1.7277275025844574,
	6.074042001273483,
	24.380529699556064,
};

#define SERIES_A_MAX 10.0 /* the series up to here (<= ~130 terms), quadrature beyond */
#define SERIES_EPS   1e-17
#define SERIES_TERMS 1000
#define QUAD_HALF    8.5 /* the Rice density beyond a +- 8.5 sigma holds < 1e-16 of P */
#define FAR          9.0 /* |b - a| >= 9: P within 3e-18 of 0 or 1 */

/*
 * 1 - Q1(a, b) as a Poisson mixture: with x = b^2/2, lambda = a^2/2,
 *   P = sum_n e^-lambda lambda^n / n!  *  P(n + 1, x),
 * P(n + 1, x) the regularized lower incomplete gamma, i.e. the chi-square CDF with 2n + 2
 * degrees of freedom. Both factors follow by recurrence, every term is positive (no
 * cancellation in the sum), and once n > lambda the rest of the sum, from term n on, is at
 * most G_n w_n / (1 - q), q = lambda / (n + 1): the loop stops when that is below 1e-17.
 */
static double
p_series(double a, double b)
{
	double lambda = a * a / 2, x = b * b / 2;
	double w = exp(-lambda); /* Poisson weight of n */
	double ex = exp(-x);
	double t = ex;         /* e^-x x^n / n! */
	double g = -expm1(-x); /* P(n + 1, x) */
	double s = 0.0;

	for (int n = 1; n < SERIES_TERMS; n++) {
		s += w * g;
		w *= lambda / n;
		t *= x / n;
		g -= t;
		if (g <= 0.0)
			break;
		if (n > lambda) {
			double q = lambda / (n + 1);

			if (g * w / (1.0 - q) < SERIES_EPS)
				break;
		}
	}
	return s < 1.0 ? s : 1.0;
}

/*
 * 1 - Q1(a, b) as the Rice CDF: the integral over [0, b] of rho e^-(rho - a)^2/2 I0e(rho a),
 * restricted to a +- 8.5 and done by 20-point Gauss-Legendre on two panels. For a > 10 only,
 * where the series would need hundreds of terms; there rho a >= 15 and I0e has its asymptotic
 * expansion. Error below 3e-14 against mpmath over a in 10..400 (tests/game).
 */
static double
p_quadrature(double a, double b)
{
	double lo = a - QUAD_HALF > 0.0 ? a - QUAD_HALF : 0.0;
	double hi = a + QUAD_HALF < b ? a + QUAD_HALF : b;
	double s = 0.0;

	if (hi <= lo)
		return 0.0;
	for (int panel = 0; panel < 2; panel++) {
		double p_lo = lo + (hi - lo) * panel / 2, p_hi = lo + (hi - lo) * (panel + 1) / 2;
		double half = (p_hi - p_lo) / 2, mid = (p_hi + p_lo) / 2, ps = 0.0;

		for (int i = 0; i < 20; i++) {
			double rho = mid + (i < 10 ? -gl20[i][0] : gl20[i - 10][0]) * half;
			double iz = 1.0 / (rho * a), poly = 0.0;

			for (int k = 9; k >= 0; k--)
				poly = poly * iz + i0_asym[k];
			ps += gl20[i % 10][1] * sqrt(rho) * exp(-(rho - a) * (rho - a) / 2) * poly;
		}
		s += ps * half;
	}
	s /= sqrt(2 * M_PI * a);
	return s < 1.0 ? s : 1.0;
}

double
fc_game_probability(double d, double r, double sigma)
{
	double a, b;

	if (!(sigma > 0.0))
		return d <= r ? 1.0 : 0.0;
	a = d / sigma;
	b = r / sigma;
	if (b <= 0.0 || a - b >= FAR)
		return 0.0;
	if (b - a >= FAR)
		return 1.0;
	return a <= SERIES_A_MAX ? p_series(a, b) : p_quadrature(a, b);
}

/* The probability policy on a fix inside the disc (d <= r), sigma known. */
static bool
probability_qualifies(const struct fc_game_rules *rules, double d, double r, double sigma)
{
	double m = r - d;

	if (m < rules->reject_z * sigma)
		return false;
	if (m * m >= rules->accept_k2 * sigma * sigma)
		return true;
	return fc_game_probability(d, r, sigma) >= rules->threshold;
}

bool
fc_game_qualifies(const struct fc_game_rules *rules, const struct fc_game_clue *c, int32_t x_mm,
		  int32_t y_mm, uint16_t err_mm, uint32_t *dist_mm)
{
	int64_t dx = (int64_t)x_mm - c->x_mm, dy = (int64_t)y_mm - c->y_mm, r = c->radius_mm;
	int64_t d2;
	double m;

	/* the box first: most fixes presented are nowhere near, and d^2 cannot overflow after */
	if (dx > r || dx < -r || dy > r || dy < -r)
		return false;
	d2 = dx * dx + dy * dy;
	if (d2 > r * r)
		return false;
	switch (rules->policy) {
	case FC_GAME_POLICY_DISTANCE:
		break;
	case FC_GAME_POLICY_CONSERVATIVE:
		if (err_mm == FC_GAME_ERR_UNKNOWN)
			return false;
		/* d + k sigma <= r as d^2 <= (r - k sigma)^2: exact at integer boundaries */
		m = (double)r - rules->sigma_k * err_mm;
		if (m < 0.0 || (double)d2 > m * m)
			return false;
		break;
	case FC_GAME_POLICY_PROBABILITY:
		if (err_mm == FC_GAME_ERR_UNKNOWN ||
		    !probability_qualifies(rules, sqrt((double)d2), (double)r, err_mm))
			return false;
		break;
	default:
		return false;
	}
	if (dist_mm != NULL)
		*dist_mm = (uint32_t)(sqrt((double)d2) + 0.5);
	return true;
}
