"""Blueprints, one per audience; views stay thin and call the search services."""
