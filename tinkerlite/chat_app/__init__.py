"""Interactive apps over a sampling client (the cookbook's ``tinker_cookbook.chat_app``)."""
