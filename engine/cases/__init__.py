"""Schools at risk: results and risk lists in, school cases, positive shift, the gate."""
