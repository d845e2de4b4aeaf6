// Must be imported before ink. Ink turns itself into a "CI mode" that paints nothing until exit
// whenever CI is set in the environment; the TUI is interactive by definition (a user asked for
// the full screen), so it always paints. Ink reads the variable once, when it is first loaded.
process.env.CI = '0';
process.env.CONTINUOUS_INTEGRATION = '0';
