"""nbval's collection of the documentation notebooks."""

# 04 is written against the notifications API of the client (`client.webhooks`) and the sandbox's delivery
# as documented (retries, dead-letter queue, metrics, replay). Until both are in the package, it cannot run:
# execute it with scripts/refresh_notebooks.py once they are, commit its outputs, and delete this line.
collect_ignore = ["04_webhooks_and_store.ipynb"]
