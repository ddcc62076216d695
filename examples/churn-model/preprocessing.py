"""Feature extraction for the churn model: one raw customer row -> floats."""

FEATURES = ("tenure_months", "monthly_charges", "support_tickets", "is_annual_plan")


def features(row):
    """Return the feature vector in the order the model was trained on."""
    return [
        float(row.get("tenure_months", 0)) / 72.0,
        float(row.get("monthly_charges", 0.0)) / 120.0,
        min(float(row.get("support_tickets", 0)), 10.0) / 10.0,
        1.0 if row.get("plan") == "annual" else 0.0,
    ]
