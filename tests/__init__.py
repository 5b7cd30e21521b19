"""The tests, as a package: helpers are imported as `tests.app_support`, `tests.browser.support`."""
