"""BI layer over the mart: RAA-style aggregate views, GIM SQL compatibility, the HTML report."""
