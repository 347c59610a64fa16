"""The cookbook's ``eval.run_inspect_evals``: inspect_ai integration, not ported (see ``_inspect_gate``).

Importing this module raises ImportError: with inspect_ai missing it names the extra to install
(``pip install 'tinkerlite[inspect]'``); with inspect_ai present it points at the cookbook's module.
"""

from ._inspect_gate import refuse

refuse(__name__)
