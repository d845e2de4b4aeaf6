// Must be imported before ink (and chalk, which ink loads). Ink turns itself into a "CI mode" that
// paints nothing until exit whenever CI is set in the environment, and chalk turns colour off when
// it sees CI at all (even CI=0). The TUI is interactive by definition (a user asked for the full
// screen), so the variables go: Ink paints, and colour follows the terminal (NO_COLOR and
// FORCE_COLOR still apply). Both read the environment once, when first loaded.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
