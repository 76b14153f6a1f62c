"""A channel package as the accounts issue would add one (the tax app), for the addition test."""
