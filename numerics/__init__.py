"""numerics: train the paper's networks with torch and measure what each statement speaks of."""
