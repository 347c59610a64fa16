"""Small cookbook utilities (learning-rate schedules, run logs, atomic files)."""
