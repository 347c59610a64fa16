"""Conversions to and from other libraries' chat formats (the cookbook's ``tinker_cookbook.third_party``)."""
