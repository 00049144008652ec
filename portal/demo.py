"""Demo data for `make run`, registered by each app in its AppConfig.ready(), so that the
seed_demo command imports no app above portal (permits, reconciliation, masks, ...)."""

_seeders = []


def register(*, order, seed):
    """Run `seed(users)` in `order` (lower first: a seeder may use what an earlier one made).
    `users` is {role label of seed_demo.DEMO_USERS: User}; `seed` returns the line to print,
    or None when there was nothing new to create (seeders run again on every `make run`)."""
    _seeders.append((order, seed))


def seed_all(users):
    """Run every registered seeder in order; the lines they returned."""
    lines = []
    for _order, seed in sorted(_seeders, key=lambda entry: entry[0]):
        line = seed(users)
        if line:
            lines.append(line)
    return lines
